package rules

import (
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigilhq/vigil"
)

// Match is a rule that fired, or would have fired but for its throttle.
type Match struct {
	Rule vigil.Rule
	// Group names the threshold or throttle group, e.g. "user=alice,host=db1".
	Group string
	// Count is the number of matching events in the window, 1 without a threshold.
	Count int
	Event vigil.RuleEvent
	// Suppressed says the rule already fired for this group within its
	// throttle; callers count such matches instead of alerting.
	Suppressed bool
}

// RuleError is a rule that could not be evaluated against an event, e.g.
// because it exceeded its cost limit. Other rules still run.
type RuleError struct {
	Rule vigil.Rule
	Err  error
}

// Options tune an Engine. The zero value is usable.
type Options struct {
	// FirstSeen backs the first_seen(key) helper: it reports whether key
	// has never been seen before and records it. Nil keeps an in-memory
	// set of at most MaxGroups keys, forgotten on restart.
	FirstSeen func(key string) bool
	// MaxGroups bounds the threshold and throttle groups kept in memory;
	// when full, the least recently seen of a sample is dropped. Default 100000.
	MaxGroups int
	// OnError, if set, is called for each evaluation error.
	OnError func(RuleError)
}

type compiled struct {
	rule vigil.Rule
	prg  *Program
	idx  int
}

// Engine evaluates a fixed set of rules against events. It is safe for
// concurrent use; thresholds and throttles are kept in memory and use the
// events' own times, not the clock.
type Engine struct {
	all    []*compiled
	byType map[string][]*compiled
	anyT   []*compiled
	opts   Options
	shards [stateShards]shard
	seed   maphash.Seed
	errs   atomic.Uint64
	seen   *seenSet
}

const stateShards = 16

type shard struct {
	mu     sync.Mutex
	groups map[stateKey]*groupState
}

type stateKey struct {
	rule  int
	group string
}

type groupState struct {
	times    []time.Time // matching events inside the window, oldest first
	fired    time.Time   // when the rule last fired for the group
	lastSeen time.Time
}

// NewEngine compiles the enabled rules. A rule whose expression does not
// compile makes it fail with an error naming the rule.
func NewEngine(rules []vigil.Rule) (*Engine, error) {
	return NewEngineWithOptions(rules, Options{})
}

// NewEngineWithOptions is NewEngine with options.
func NewEngineWithOptions(rules []vigil.Rule, opts Options) (*Engine, error) {
	if opts.MaxGroups <= 0 {
		opts.MaxGroups = 100_000
	}
	e := &Engine{byType: map[string][]*compiled{}, opts: opts, seed: maphash.MakeSeed()}
	if opts.FirstSeen == nil {
		e.seen = &seenSet{max: opts.MaxGroups, keys: map[string]struct{}{}}
		e.opts.FirstSeen = e.seen.first
	}
	typed := map[string]bool{}
	for _, r := range rules {
		if !r.Enabled {
			continue
		}
		p, err := Compile(r.Expression)
		if err != nil {
			return nil, fmt.Errorf("rule %s (%s): %w", ruleLabel(r), r.Name, err)
		}
		c := &compiled{rule: r, prg: p, idx: len(e.all)}
		e.all = append(e.all, c)
		for _, t := range p.types {
			typed[t] = true
		}
	}
	for t := range typed {
		for _, c := range e.all {
			if c.prg.types == nil || slices.Contains(c.prg.types, t) {
				e.byType[t] = append(e.byType[t], c)
			}
		}
	}
	for _, c := range e.all {
		if c.prg.types == nil {
			e.anyT = append(e.anyT, c)
		}
	}
	for i := range e.shards {
		e.shards[i].groups = map[stateKey]*groupState{}
	}
	return e, nil
}

func ruleLabel(r vigil.Rule) string {
	switch {
	case r.Ref != "":
		return r.Ref
	case r.Builtin != "":
		return r.Builtin
	}
	return r.ID
}

// Len returns the number of enabled rules.
func (e *Engine) Len() int { return len(e.all) }

// Errors returns how many evaluation errors happened so far.
func (e *Engine) Errors() uint64 { return e.errs.Load() }

// Evaluate runs every enabled rule that can match the event's type and
// returns the rules that fire, including throttled ones marked Suppressed.
// Evaluation errors are counted (Errors) and passed to Options.OnError.
func (e *Engine) Evaluate(ev vigil.RuleEvent) []Match {
	m, _ := e.EvaluateErr(ev)
	return m
}

// EvaluateErr is Evaluate that also returns the evaluation errors.
func (e *Engine) EvaluateErr(ev vigil.RuleEvent) ([]Match, []RuleError) {
	list, ok := e.byType[ev.Type]
	if !ok {
		list = e.anyT
	}
	if len(list) == 0 {
		return nil, nil
	}
	ce, cs := newEvent(&ev)
	act := newActivation(ce, cs, e.opts.FirstSeen)
	var matches []Match
	var errs []RuleError
	for _, c := range list {
		ok, err := c.prg.eval(act)
		if err != nil {
			e.errs.Add(1)
			re := RuleError{Rule: c.rule, Err: err}
			errs = append(errs, re)
			if e.opts.OnError != nil {
				e.opts.OnError(re)
			}
			continue
		}
		if !ok {
			continue
		}
		if m, fire := e.record(c, &ev); fire {
			matches = append(matches, m)
		}
	}
	return matches, errs
}

// record applies a rule's threshold and throttle to a matching event.
func (e *Engine) record(c *compiled, ev *vigil.RuleEvent) (Match, bool) {
	r := &c.rule
	th := r.Threshold
	if th == nil && r.Throttle <= 0 {
		return Match{Rule: *r, Group: groupKey([]string{"user", "host"}, ev), Count: 1, Event: *ev}, true
	}
	var group string
	if th != nil {
		group = groupKey(th.GroupBy, ev)
	} else {
		group = groupKey([]string{"user", "host"}, ev)
	}
	key := stateKey{rule: c.idx, group: group}
	sh := &e.shards[maphash.Comparable(e.seed, key)%stateShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	st := sh.groups[key]
	if st == nil {
		if len(sh.groups) >= max(1, e.opts.MaxGroups/stateShards) {
			sh.evict()
		}
		st = &groupState{}
		sh.groups[key] = st
	}
	t := ev.Time
	st.lastSeen = t
	count := 1
	if th != nil {
		win := time.Duration(th.Window)
		keep := st.times[:0]
		for _, x := range st.times {
			if t.Sub(x) < win && !x.After(t) || x.After(t) && x.Sub(t) < win {
				keep = append(keep, x)
			}
		}
		st.times = append(keep, t)
		limit := min(th.Count, 10_000)
		if len(st.times) > limit {
			st.times = st.times[len(st.times)-limit:]
		}
		if len(st.times) < th.Count {
			return Match{}, false
		}
		count = len(st.times)
		st.times = st.times[:0]
	}
	m := Match{Rule: *r, Group: group, Count: count, Event: *ev}
	if r.Throttle > 0 && !st.fired.IsZero() && t.Sub(st.fired) < time.Duration(r.Throttle) && !t.Before(st.fired) {
		m.Suppressed = true
		return m, true
	}
	st.fired = t
	return m, true
}

// evict drops the least recently seen of a sample of groups.
func (sh *shard) evict() {
	var oldest stateKey
	var when time.Time
	n := 0
	for k, st := range sh.groups {
		if n == 0 || st.lastSeen.Before(when) {
			oldest, when = k, st.lastSeen
		}
		if n++; n >= 8 {
			break
		}
	}
	delete(sh.groups, oldest)
}

// groupKey names the group of an event by the given fields.
func groupKey(fields []string, ev *vigil.RuleEvent) string {
	var b strings.Builder
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(f)
		b.WriteByte('=')
		switch f {
		case "user":
			b.WriteString(ev.User)
		case "host":
			b.WriteString(ev.Host)
		case "source_ip":
			b.WriteString(ev.SourceIP)
		case "target_user":
			b.WriteString(ev.TargetUser)
		case "session":
			b.WriteString(ev.SessionID)
		case "command":
			b.WriteString(ev.Command)
		}
	}
	return b.String()
}

// seenSet is the default memory of first_seen.
type seenSet struct {
	mu   sync.Mutex
	max  int
	keys map[string]struct{}
}

func (s *seenSet) first(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[key]; ok {
		return false
	}
	if len(s.keys) >= s.max {
		for k := range s.keys { // forget one at random
			delete(s.keys, k)
			break
		}
	}
	s.keys[key] = struct{}{}
	return true
}

// DryRun compiles expr and returns the events it matches, ignoring
// thresholds and throttles; first_seen sees each key once, in order.
func DryRun(expr string, events []vigil.RuleEvent) ([]vigil.RuleEvent, error) {
	p, err := Compile(expr)
	if err != nil {
		return nil, err
	}
	seen := &seenSet{max: 100_000, keys: map[string]struct{}{}}
	out := []vigil.RuleEvent{}
	for i := range events {
		ce, cs := newEvent(&events[i])
		ok, err := p.eval(newActivation(ce, cs, seen.first))
		if err != nil {
			return nil, vigil.Invalid("expression", "event %d: %s", i, err.Error())
		}
		if ok {
			out = append(out, events[i])
		}
	}
	return out, nil
}
