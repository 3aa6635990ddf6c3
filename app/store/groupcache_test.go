package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/mesi/mconnect/app/domain"
)

// TestGroupChangesReachTheOrderPath: orders name their group by ID or
// name, looked up in a cache; every change of the groups table (create,
// rename, default, delete, ensure) is seen by the next order.
func TestGroupChangesReachTheOrderPath(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	n := 0
	groupOf := func(grp string) string {
		t.Helper()
		n++
		o := order("c", fmt.Sprintf("m%d", n), fmt.Sprintf("A%d", n), domain.ActionNew)
		o.Group = grp
		acc, err := s.ApplyOrder(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		return acc.Groups[0]
	}
	if got := groupOf("Cardiology"); got != domain.DefaultGroupID {
		t.Fatalf("before the group exists: %q", got)
	}
	g, err := s.CreateGroup(ctx, "Cardiology", "test")
	if err != nil {
		t.Fatal(err)
	}
	if got := groupOf("Cardiology"); got != g.ID {
		t.Fatalf("after CreateGroup: %q, want %q", got, g.ID)
	}
	if err := s.RenameGroup(ctx, g.ID, "Kardiologie", "test"); err != nil {
		t.Fatal(err)
	}
	if got, old := groupOf("Kardiologie"), groupOf("Cardiology"); got != g.ID || old != domain.DefaultGroupID {
		t.Fatalf("after RenameGroup: new name %q, old name %q", got, old)
	}
	if err := s.SetDefaultGroup(ctx, g.ID, "test"); err != nil {
		t.Fatal(err)
	}
	if got := groupOf(""); got != g.ID {
		t.Fatalf("after SetDefaultGroup: no group goes to %q, want %q", got, g.ID)
	}
	if err := s.EnsureGroup(ctx, "lab", "Lab"); err != nil {
		t.Fatal(err)
	}
	if got := groupOf("Lab"); got != "lab" {
		t.Fatalf("after EnsureGroup: %q", got)
	}
	if err := s.SetDefaultGroup(ctx, domain.DefaultGroupID, "test"); err != nil {
		t.Fatal(err)
	}
	other, err := s.CreateGroup(ctx, "Empty", "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteGroup(ctx, other.ID, "test"); err != nil {
		t.Fatal(err)
	}
	if got := groupOf(other.ID); got != domain.DefaultGroupID {
		t.Fatalf("after DeleteGroup: an order for it went to %q", got)
	}
}
