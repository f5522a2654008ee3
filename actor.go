package vigil

import "context"

// Actor types recorded in the trail.
const (
	ActorUser   = "user"
	ActorToken  = "token"
	ActorSystem = "system"
	ActorAgent  = "agent"
)

// Actor is who acts: the principal behind a request or a job. Every change
// records its actor in the trail.
type Actor struct {
	Type   string // ActorUser, ActorToken, ActorSystem or ActorAgent
	ID     string // user id, token id, agent id, or a system component name
	UserID string // the person behind a user or token actor
	Email  string
	Name   string
	OrgID  string // the organisation the actor works in, if any
	Role   Role
}

type actorKey struct{}

// WithActor returns a context that carries a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor of ctx, or the system actor "unknown" when none
// was set, so that every trail entry names someone.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return Actor{Type: ActorSystem, ID: "unknown"}
}

// SystemActor is a component of Vigil acting on its own (the CLI, a job).
func SystemActor(component string) Actor {
	return Actor{Type: ActorSystem, ID: component}
}
