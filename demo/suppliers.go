package demo

import (
	"context"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
)

// seedSuppliers adds the demo organisation's sample data for this area; people
// maps each role to the demo member who holds it.
func seedSuppliers(ctx context.Context, st *store.Store, orgID string, people map[vigil.Role]string) error {
	return nil
}
