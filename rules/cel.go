package rules

import (
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/functions"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/ext"

	"github.com/vigilhq/vigil"
)

// Cost limits of an expression, in CEL cost units (roughly one per
// operation, one per ten bytes of a string operation).
const (
	// EvalCostLimit stops an evaluation that does more work than this.
	EvalCostLimit = 100_000
	// CompileCostLimit refuses an expression whose worst case, assuming
	// argv of at most 256 words and strings of at most 4 KiB, exceeds it.
	CompileCostLimit = 100_000_000
)

// Event is what an expression sees as `event`. The agent's event is copied
// in; the parsed command line is made on first use and kept for the other
// rules of the same evaluation.
type Event struct {
	Type       string            `cel:"type"`
	Time       time.Time         `cel:"time"`
	User       string            `cel:"user"`
	Host       string            `cel:"host"`
	HostLabels map[string]string `cel:"host_labels"`
	Command    string            `cel:"command"`
	Argv       []string          `cel:"argv"`
	CWD        string            `cel:"cwd"`
	ExitCode   int64             `cel:"exit_code"`
	SourceIP   string            `cel:"source_ip"`
	TargetUser string            `cel:"target_user"`

	parsed *commandLine
}

// Session is what an expression sees as `session`.
type Session struct {
	ID      string    `cel:"id"`
	Started time.Time `cel:"started"`
}

// newEvent copies a rule event into the form expressions see.
func newEvent(ev *vigil.RuleEvent) (*Event, *Session) {
	e := &Event{
		Type: ev.Type, Time: ev.Time, User: ev.User, Host: ev.Host, HostLabels: ev.HostLabels,
		Command: ev.Command, Argv: ev.Argv, CWD: ev.CWD, ExitCode: -1, SourceIP: ev.SourceIP, TargetUser: ev.TargetUser,
	}
	if e.HostLabels == nil {
		e.HostLabels = map[string]string{}
	}
	if ev.ExitCode != nil {
		e.ExitCode = int64(*ev.ExitCode)
	}
	s := &Session{ID: ev.SessionID}
	if ev.SessionStarted != nil {
		s.Started = *ev.SessionStarted
	}
	if e.Command == "" && len(e.Argv) > 0 {
		e.Command = quoteArgv(e.Argv)
	}
	if len(e.Argv) == 0 && e.Command != "" {
		e.Argv = e.line().tokens
	}
	if e.Argv == nil {
		e.Argv = []string{}
	}
	return e, s
}

// line returns the parsed command line, parsing it once.
func (e *Event) line() *commandLine {
	if e.parsed == nil {
		// A sudo event's command already ran through sudo.
		el := e.Type == vigil.EventTypeSudo && (e.TargetUser == "" || e.TargetUser == "root")
		e.parsed = parseCommand(e.Command, el)
	}
	return e.parsed
}

// quoteArgv joins argv into a command line that parses back to the same words.
func quoteArgv(argv []string) string {
	var b strings.Builder
	for i, a := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		if a != "" && !strings.ContainsAny(a, " \t\n'\"\\$`|&;<>()*?[]#~") {
			b.WriteString(a)
			continue
		}
		b.WriteByte('\'')
		b.WriteString(strings.ReplaceAll(a, "'", `'\''`))
		b.WriteByte('\'')
	}
	return b.String()
}

var (
	eventType   = cel.ObjectType("rules.Event")
	stringList  = cel.ListType(cel.StringType)
	envOnce     sync.Once
	sharedEnv   *cel.Env
	sharedError error
)

// env returns the CEL environment of rule expressions, built once.
func env() (*cel.Env, error) {
	envOnce.Do(func() { sharedEnv, sharedError = newEnv() })
	return sharedEnv, sharedError
}

func newEnv() (*cel.Env, error) {
	opts := []cel.EnvOption{
		ext.NativeTypes(ext.ParseStructTags(true), reflect.TypeFor[Event](), reflect.TypeFor[Session]()),
		cel.Variable("event", eventType),
		cel.Variable("session", cel.ObjectType("rules.Session")),
		ext.Strings(),
		cel.Function("in_hours",
			cel.Overload("in_hours_timestamp_string_string_string",
				[]*cel.Type{cel.TimestampType, cel.StringType, cel.StringType, cel.StringType}, cel.BoolType,
				cel.FunctionBinding(inHoursBinding))),
		cel.Function("path_matches",
			cel.Overload("path_matches_string_string", []*cel.Type{cel.StringType, cel.StringType}, cel.BoolType,
				cel.BinaryBinding(func(p, g ref.Val) ref.Val {
					return types.Bool(PathMatches(string(p.(types.String)), string(g.(types.String))))
				})),
			cel.MemberOverload("string_path_matches_string", []*cel.Type{cel.StringType, cel.StringType}, cel.BoolType,
				cel.BinaryBinding(func(p, g ref.Val) ref.Val {
					return types.Bool(PathMatches(string(p.(types.String)), string(g.(types.String))))
				}))),
		cel.Function("cmd_tokens",
			cel.Overload("cmd_tokens_string", []*cel.Type{cel.StringType}, stringList,
				cel.UnaryBinding(func(s ref.Val) ref.Val {
					return types.NewStringList(types.DefaultTypeAdapter, Tokens(string(s.(types.String))))
				}))),
		cel.Function("normalize_cmd",
			cel.Overload("normalize_cmd_string", []*cel.Type{cel.StringType}, cel.StringType,
				cel.UnaryBinding(func(s ref.Val) ref.Val {
					return types.String(NormalizeCommand(string(s.(types.String))))
				}))),
		cel.Function("remote_host",
			cel.Overload("remote_host_string", []*cel.Type{cel.StringType}, cel.StringType,
				cel.UnaryBinding(func(s ref.Val) ref.Val {
					return types.String(RemoteHost(string(s.(types.String))))
				}))),
		cel.Function("is_external_host",
			cel.Overload("is_external_host_string", []*cel.Type{cel.StringType}, cel.BoolType,
				cel.UnaryBinding(func(s ref.Val) ref.Val {
					return types.Bool(IsExternalHost(string(s.(types.String))))
				}))),
		cel.Function("first_seen",
			cel.Overload("first_seen_string", []*cel.Type{cel.StringType}, cel.BoolType, cel.LateFunctionBinding())),
		eventMember("runs", []*cel.Type{stringList}, func(e *Event, a []ref.Val) ref.Val {
			return types.Bool(e.line().runs(globs(a[0]), nil, nil, nil))
		}),
		eventMember("runs_arg", []*cel.Type{stringList, stringList}, func(e *Event, a []ref.Val) ref.Val {
			return types.Bool(e.line().runs(globs(a[0]), globs(a[1]), nil, nil))
		}),
		eventMember("runs_args", []*cel.Type{stringList, stringList, stringList}, func(e *Event, a []ref.Val) ref.Val {
			return types.Bool(e.line().runs(globs(a[0]), globs(a[1]), globs(a[2]), nil))
		}),
		eventMember("runs_flag", []*cel.Type{stringList, stringList}, func(e *Event, a []ref.Val) ref.Val {
			return types.Bool(e.line().runs(globs(a[0]), nil, nil, strs(a[1])))
		}),
		eventMember("runs_as_root", []*cel.Type{stringList}, func(e *Event, a []ref.Val) ref.Val {
			return types.Bool(e.line().runsAsRoot(globs(a[0])))
		}),
		eventMember("writes", []*cel.Type{stringList}, func(e *Event, a []ref.Val) ref.Val {
			return types.Bool(e.line().writes(globs(a[0])))
		}),
		eventMember("mentions", []*cel.Type{stringList}, func(e *Event, a []ref.Val) ref.Val {
			return types.Bool(e.line().mentions(globs(a[0])))
		}),
		eventMember("pipes", []*cel.Type{stringList, stringList}, func(e *Event, a []ref.Val) ref.Val {
			return types.Bool(e.line().pipes(globs(a[0]), globs(a[1])))
		}),
		eventMember("programs", nil, func(e *Event, _ []ref.Val) ref.Val {
			var progs []string
			for _, inv := range e.line().invs {
				progs = append(progs, inv.prog)
			}
			return types.NewStringList(types.DefaultTypeAdapter, progs)
		}),
	}
	return cel.NewEnv(opts...)
}

// eventMember declares event.name(args…) with an implementation over the
// event's parsed command line.
func eventMember(name string, args []*cel.Type, fn func(*Event, []ref.Val) ref.Val) cel.EnvOption {
	ret := cel.BoolType
	if name == "programs" {
		ret = stringList
	}
	return cel.Function(name, cel.MemberOverload("event_"+name, append([]*cel.Type{eventType}, args...), ret,
		cel.FunctionBinding(func(vals ...ref.Val) ref.Val {
			e, ok := vals[0].Value().(*Event)
			if !ok {
				return types.NewErr("%s: event expected", name)
			}
			return fn(e, vals[1:])
		})))
}

// globs compiles a CEL list of patterns.
func globs(v ref.Val) *globSet {
	return newGlobSet(strs(v))
}

func strs(v ref.Val) []string {
	l, ok := v.(traits.Lister)
	if !ok {
		return nil
	}
	n := int(l.Size().(types.Int))
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		if s, ok := l.Get(types.Int(i)).(types.String); ok {
			out = append(out, string(s))
		}
	}
	return out
}

// inHoursBinding implements in_hours(time, start, end, zone).
func inHoursBinding(args ...ref.Val) ref.Val {
	ts, ok := args[0].(types.Timestamp)
	if !ok {
		return types.NewErr("in_hours: timestamp expected")
	}
	in, err := InHours(ts.Time, string(args[1].(types.String)), string(args[2].(types.String)), string(args[3].(types.String)))
	if err != nil {
		return types.NewErr("%s", err.Error())
	}
	return types.Bool(in)
}

var zones sync.Map // name → *time.Location; loading a zone reads files

func loadZone(name string) (*time.Location, error) {
	if z, ok := zones.Load(name); ok {
		return z.(*time.Location), nil
	}
	z, err := time.LoadLocation(name)
	if err != nil || name == "" || name == "Local" {
		return nil, fmt.Errorf("in_hours: unknown time zone %q", name)
	}
	zones.Store(name, z)
	return z, nil
}

// parseClock reads "HH:MM" as minutes after midnight; "24:00" is the end of the day.
func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || len(h) != 2 || len(m) != 2 || err1 != nil || err2 != nil || hh < 0 || hh > 24 || mm < 0 || mm > 59 || hh == 24 && mm != 0 {
		return 0, fmt.Errorf("in_hours: time %q must look like 08:00", s)
	}
	return hh*60 + mm, nil
}

// InHours reports whether t, in the zone, falls within [start, end) given
// as "HH:MM". When end is before start the window spans midnight, so
// 22:00–05:00 holds 23:30 and 04:59. Equal start and end is the whole day.
func InHours(t time.Time, start, end, zone string) (bool, error) {
	s, err := parseClock(start)
	if err != nil {
		return false, err
	}
	e, err := parseClock(end)
	if err != nil {
		return false, err
	}
	z, err := loadZone(zone)
	if err != nil {
		return false, err
	}
	lt := t.In(z)
	m := lt.Hour()*60 + lt.Minute()
	switch {
	case s == e:
		return true, nil
	case s < e:
		return m >= s && m < e, nil
	default:
		return m >= s || m < e, nil
	}
}

// RemoteHost returns the host of a copy destination or URL: host of
// user@host:path, host:path, scp://host/…, https://host/…, or "" when s is
// a local path.
func RemoteHost(s string) string {
	if i := strings.Index(s, "://"); i > 0 {
		rest := s[i+3:]
		if j := strings.IndexAny(rest, "/?#"); j >= 0 {
			rest = rest[:j]
		}
		if j := strings.LastIndexByte(rest, '@'); j >= 0 {
			rest = rest[j+1:]
		}
		return stripPort(rest)
	}
	if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "/") || strings.HasPrefix(s, ".") {
		return ""
	}
	if strings.HasPrefix(s, "[") { // [::1]:path
		if j := strings.Index(s, "]:"); j > 0 {
			return s[1:j]
		}
		return ""
	}
	colon := strings.IndexByte(s, ':')
	if colon <= 0 {
		return ""
	}
	host := s[:colon]
	if strings.IndexByte(host, '/') >= 0 || strings.IndexByte(host, '=') >= 0 {
		return ""
	}
	if j := strings.LastIndexByte(host, '@'); j >= 0 {
		host = host[j+1:]
	}
	return host
}

func stripPort(h string) string {
	if strings.HasPrefix(h, "[") {
		if j := strings.IndexByte(h, ']'); j > 0 {
			return h[1:j]
		}
	}
	if j := strings.LastIndexByte(h, ':'); j >= 0 && strings.Count(h, ":") == 1 {
		return h[:j]
	}
	return h
}

// internalSuffixes are name endings of hosts inside the organisation.
var internalSuffixes = []string{".internal", ".local", ".lan", ".localdomain", ".home.arpa", ".corp", ".intranet"}

// IsExternalHost reports whether a destination host is outside the
// organisation: a public IP address, or a dotted name that does not end in
// .internal, .local, .lan, .localdomain, .home.arpa, .corp or .intranet.
// Private, loopback, link-local and shared (100.64/10) addresses and
// single-label names (db1, backup) count as internal; "" is not a host.
func IsExternalHost(h string) bool {
	h = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(h), "."))
	if h == "" || h == "localhost" {
		return false
	}
	if ip, err := netip.ParseAddr(h); err == nil {
		return !(ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() ||
			netip.MustParsePrefix("100.64.0.0/10").Contains(ip))
	}
	if !strings.Contains(h, ".") {
		return false
	}
	for _, s := range internalSuffixes {
		if strings.HasSuffix(h, s) {
			return false
		}
	}
	return true
}

// costEstimator bounds the sizes of inputs so that the worst-case cost of an
// expression is finite.
type costEstimator struct{}

func (costEstimator) EstimateCallCost(string, string, *cost.AstNode, []cost.AstNode) *cost.CallEstimate {
	return nil
}

func (costEstimator) EstimateSize(n cost.AstNode) *cost.SizeEstimate {
	t := n.Type()
	if t == nil {
		return nil
	}
	switch t.Kind() {
	case types.StringKind, types.BytesKind:
		return &cost.SizeEstimate{Min: 0, Max: 4096}
	case types.ListKind:
		return &cost.SizeEstimate{Min: 0, Max: 256}
	case types.MapKind:
		return &cost.SizeEstimate{Min: 0, Max: 64}
	}
	return nil
}

// Program is a compiled rule expression.
type Program struct {
	expr  string
	prg   cel.Program
	types []string // event types the expression can match; nil for any
}

// Types returns the event types the expression can match at all, found in
// a top-level `event.type == "…"` or `event.type in […]` condition; nil
// means any type.
func (p *Program) Types() []string { return p.types }

// invalid returns the error of a bad expression.
func invalid(format string, args ...any) error {
	return vigil.Invalid("expression", format, args...)
}

// Compile checks an expression and prepares it for evaluation. A bad
// expression returns a *vigil.Error (EInvalid, field "expression") whose
// message gives the line and column of the first problem.
func Compile(expr string) (p *Program, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, invalid("cannot compile: %v", r)
		}
	}()
	if strings.TrimSpace(expr) == "" {
		return nil, invalid("must not be empty")
	}
	if len(expr) > vigil.RuleMaxExpression*4 {
		return nil, invalid("must be at most %d characters", vigil.RuleMaxExpression)
	}
	e, err := env()
	if err != nil {
		return nil, fmt.Errorf("rule environment: %w", err)
	}
	checked, iss := e.Compile(expr)
	if iss != nil && iss.Err() != nil {
		errs := iss.Errors()
		if len(errs) == 0 {
			return nil, invalid("%s", iss.Err().Error())
		}
		first := errs[0]
		loc := first.Location
		return nil, invalid("line %d, column %d: %s", loc.Line(), loc.Column()+1, first.Message)
	}
	if !checked.OutputType().IsExactType(cel.BoolType) {
		return nil, invalid("must be true or false, but gives %s", checked.OutputType())
	}
	if err := checkLiterals(checked.NativeRep()); err != nil {
		return nil, err
	}
	est, err := e.EstimateCost(checked, costEstimator{})
	if err == nil && est.Max > CompileCostLimit {
		return nil, invalid("is too expensive to run on every event (worst case %d, limit %d); avoid nested loops over lists", est.Max, CompileCostLimit)
	}
	// Folding constants turns list concatenations into literals, which
	// decorateHelpers then compiles once.
	if folder, ferr := cel.NewConstantFoldingOptimizer(); ferr == nil {
		if opt, oerr := cel.NewStaticOptimizer(folder); oerr == nil {
			if folded, iss := opt.Optimize(e, checked); iss == nil || iss.Err() == nil {
				checked = folded
			}
		}
	}
	prg, err := e.Program(checked, cel.CostLimit(EvalCostLimit), cel.EvalOptions(cel.OptOptimize),
		cel.CustomDecoratorV2(decorateHelpers))
	if err != nil {
		return nil, invalid("%s", err.Error())
	}
	return &Program{expr: expr, prg: prg, types: eventTypes(checked.NativeRep().Expr())}, nil
}

// checkLiterals checks the literal arguments of helpers at compile time, so
// a bad zone or clock fails when the rule is saved, not on every event.
func checkLiterals(a *ast.AST) error {
	var err error
	ast.PostOrderVisit(a.Expr(), ast.NewExprVisitor(func(x ast.Expr) {
		if err != nil || x.Kind() != ast.CallKind || x.AsCall().FunctionName() != "in_hours" {
			return
		}
		args := x.AsCall().Args()
		if len(args) != 4 {
			return
		}
		lit := func(i int) (string, bool) {
			if args[i].Kind() != ast.LiteralKind {
				return "", false
			}
			s, ok := args[i].AsLiteral().(types.String)
			return string(s), ok
		}
		for i := 1; i <= 2; i++ {
			if s, ok := lit(i); ok {
				if _, perr := parseClock(s); perr != nil {
					err = invalid("%s", perr.Error())
					return
				}
			}
		}
		if s, ok := lit(3); ok {
			if _, zerr := loadZone(s); zerr != nil {
				err = invalid("%s", zerr.Error())
			}
		}
	}))
	return err
}

// eventTypes finds the event types a top-level conjunct restricts the
// expression to.
func eventTypes(x ast.Expr) []string {
	if x.Kind() != ast.CallKind {
		return nil
	}
	c := x.AsCall()
	switch c.FunctionName() {
	case "_&&_":
		for _, arg := range c.Args() {
			if t := eventTypes(arg); t != nil {
				return t
			}
		}
	case "_==_":
		a := c.Args()
		if isEventType(a[0]) {
			if s, ok := stringLit(a[1]); ok {
				return []string{s}
			}
		}
		if isEventType(a[1]) {
			if s, ok := stringLit(a[0]); ok {
				return []string{s}
			}
		}
	case "@in":
		a := c.Args()
		if isEventType(a[0]) && a[1].Kind() == ast.ListKind {
			var out []string
			for _, el := range a[1].AsList().Elements() {
				s, ok := stringLit(el)
				if !ok {
					return nil
				}
				out = append(out, s)
			}
			return out
		}
	case "_||_":
		var out []string
		for _, arg := range c.Args() {
			t := eventTypes(arg)
			if t == nil {
				return nil
			}
			out = append(out, t...)
		}
		return out
	}
	return nil
}

func isEventType(x ast.Expr) bool {
	if x.Kind() != ast.SelectKind {
		return false
	}
	s := x.AsSelect()
	return s.FieldName() == "type" && !s.IsTestOnly() && s.Operand().Kind() == ast.IdentKind && s.Operand().AsIdent() == "event"
}

func stringLit(x ast.Expr) (string, bool) {
	if x.Kind() != ast.LiteralKind {
		return "", false
	}
	s, ok := x.AsLiteral().(types.String)
	return string(s), ok
}

// activation binds the variables and the first_seen helper of one evaluation.
type activation struct {
	event     ref.Val
	session   ref.Val
	firstSeen func(string) bool
}

// newActivation adapts the event and session once, not once per rule.
func newActivation(e *Event, s *Session, firstSeen func(string) bool) *activation {
	a := &activation{firstSeen: firstSeen}
	if env, err := env(); err == nil {
		a.event = env.CELTypeAdapter().NativeToValue(e)
		a.session = env.CELTypeAdapter().NativeToValue(s)
	}
	return a
}

func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case "event":
		return a.event, a.event != nil
	case "session":
		return a.session, a.session != nil
	}
	return nil, false
}

func (a *activation) Parent() cel.Activation { return nil }

func (a *activation) ResolveFunction(name string) (functions.LateBoundOp, bool) {
	if name != "first_seen" {
		return nil, false
	}
	return func(_ string, args ...ref.Val) ref.Val {
		s, ok := args[0].(types.String)
		if !ok {
			return types.NewErr("first_seen: string expected")
		}
		if a.firstSeen == nil {
			return types.False
		}
		return types.Bool(a.firstSeen(string(s)))
	}, true
}

// eval runs the program; an error result becomes a Go error.
func (p *Program) eval(a *activation) (ok bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			ok, err = false, fmt.Errorf("evaluate rule: %v", r)
		}
	}()
	out, _, err := p.prg.Eval(a)
	if err != nil {
		return false, err
	}
	b, isBool := out.(types.Bool)
	if !isBool {
		return false, errors.New("expression did not give true or false")
	}
	return bool(b), nil
}

// Match reports whether the expression holds for ev. first_seen, if used,
// sees every key as new.
func (p *Program) Match(ev vigil.RuleEvent) (bool, error) {
	e, s := newEvent(&ev)
	return p.eval(newActivation(e, s, func(string) bool { return true }))
}
