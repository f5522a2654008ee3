package rules

import (
	"strings"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/interpreter"
)

// helperCall is an event helper whose pattern lists are literals, compiled
// once when the program is planned instead of on every call.
type helperCall struct {
	id    int64
	name  string
	recv  interpreter.InterpretableV2
	globs []*globSet
	flags []string
}

// decorateHelpers replaces calls of event helpers that have literal lists
// with helperCall.
func decorateHelpers(i interpreter.InterpretableV2) (interpreter.InterpretableV2, error) {
	call, ok := i.(interpreter.InterpretableCall)
	if !ok || !strings.HasPrefix(call.OverloadID(), "event_") || call.OverloadID() == "event_programs" {
		return i, nil
	}
	args := call.Args()
	h := &helperCall{id: i.ID(), name: strings.TrimPrefix(call.OverloadID(), "event_"), recv: args[0]}
	for k, a := range args[1:] {
		c, ok := a.(interpreter.InterpretableConst)
		if !ok {
			return i, nil
		}
		if h.name == "runs_flag" && k == 1 {
			h.flags = strs(c.Value())
			continue
		}
		h.globs = append(h.globs, globs(c.Value()))
	}
	return h, nil
}

// ID implements interpreter.Interpretable.
func (h *helperCall) ID() int64 { return h.id }

// Eval implements interpreter.Interpretable.
func (h *helperCall) Eval(a interpreter.Activation) ref.Val {
	f, err := interpreter.NewExecutionFrame(a)
	if err != nil {
		return types.WrapErr(err)
	}
	defer f.Close()
	return h.Exec(f)
}

// Exec implements interpreter.InterpretableV2.
func (h *helperCall) Exec(f *interpreter.ExecutionFrame) ref.Val {
	v := h.recv.Exec(f)
	e, ok := v.Value().(*Event)
	if !ok {
		if types.IsUnknownOrError(v) {
			return v
		}
		return types.NewErr("%s: event expected", h.name)
	}
	cl := e.line()
	switch h.name {
	case "runs":
		return types.Bool(cl.runs(h.globs[0], nil, nil, nil))
	case "runs_arg":
		return types.Bool(cl.runs(h.globs[0], h.globs[1], nil, nil))
	case "runs_args":
		return types.Bool(cl.runs(h.globs[0], h.globs[1], h.globs[2], nil))
	case "runs_flag":
		return types.Bool(cl.runs(h.globs[0], nil, nil, h.flags))
	case "runs_as_root":
		return types.Bool(cl.runsAsRoot(h.globs[0]))
	case "writes":
		return types.Bool(cl.writes(h.globs[0]))
	case "mentions":
		return types.Bool(cl.mentions(h.globs[0]))
	case "pipes":
		return types.Bool(cl.pipes(h.globs[0], h.globs[1]))
	}
	return types.NewErr("unknown helper %s", h.name)
}
