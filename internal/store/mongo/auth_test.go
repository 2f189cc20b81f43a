package mongo

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/audit"
	"github.com/accord-fhir/accord/internal/auth"
)

func testClient(t *testing.T, id string) auth.Client {
	t.Helper()
	key, err := auth.GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	jwk, err := auth.PublicJWK(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return auth.Client{ID: id, Role: auth.RoleProvider, Organizations: []string{"RJ1"}, Scopes: []string{"system/Task.rs"},
		JWKS: &auth.JWKS{Keys: []auth.JWK{jwk}}}
}

func TestClients_CRUD(t *testing.T) {
	s, _ := newTestStore(t, nil)
	ctx := context.Background()
	c := NewClients(s)
	a, b := testClient(t, "a-epr"), testClient(t, "b-epr")
	for _, cl := range []auth.Client{b, a} {
		if err := c.Put(ctx, cl); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.Get(ctx, "a-epr")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, got); diff != "" {
		t.Errorf("Get (-put +got):\n%s", diff)
	}
	a.Scopes = []string{"system/Patient.rs"}
	if err := c.Put(ctx, a); err != nil {
		t.Fatal(err)
	}
	list, err := c.List(ctx)
	if err != nil || len(list) != 2 || list[0].ID != "a-epr" || list[0].Scopes[0] != "system/Patient.rs" {
		t.Fatalf("List = %v, %v", list, err)
	}
	bad := testClient(t, "bad")
	bad.Role = "root"
	if _, ok := fhir.AsError(c.Put(ctx, bad)); !ok {
		t.Error("Put accepted an invalid client")
	}
	if err := c.Delete(ctx, "a-epr"); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{c.Delete(ctx, "a-epr"), func() error { _, err := c.Get(ctx, "a-epr"); return err }()} {
		if !errors.Is(err, auth.ErrClientNotFound) {
			t.Errorf("after delete: %v, want ErrClientNotFound", err)
		}
	}
}

func TestReplayCache_ConcurrentSeen_OneWinner_ThenPurged(t *testing.T) {
	s, clock := newTestStore(t, nil)
	ctx := context.Background()
	r := NewReplayCache(s)
	exp := clock.Now().Add(time.Minute)
	var wg sync.WaitGroup
	var mu sync.Mutex
	fresh := 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seen, err := r.Seen(ctx, "client jti-1", exp)
			if err != nil {
				t.Error(err)
				return
			}
			if !seen {
				mu.Lock()
				fresh++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if fresh != 1 {
		t.Fatalf("%d of 8 concurrent uses of one jti were accepted, want 1", fresh)
	}
	if seen, err := r.Seen(ctx, "client jti-2", clock.Now().Add(2*time.Hour)); err != nil || seen {
		t.Fatalf("another jti: %v, %v", seen, err)
	}
	clock.Add(time.Hour)
	if n, err := r.Purge(ctx); err != nil || n != 1 {
		t.Errorf("Purge = %d, %v; want the expired jti only", n, err)
	}
	if seen, _ := r.Seen(ctx, "client jti-2", clock.Now().Add(time.Hour)); !seen {
		t.Error("the unexpired jti was purged")
	}
}

func TestAudit_AppendOnly_Search(t *testing.T) {
	s, _ := newTestStore(t, nil)
	ctx := context.Background()
	a, err := NewAudit(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	var entries []audit.Entry
	for i := 0; i < 6; i++ {
		e := audit.Entry{ID: "e" + strconv.Itoa(i), Time: t0.Add(time.Duration(i) * time.Minute), ClientID: "rj1-epr",
			Role: "provider-system", Organizations: []string{"RJ1"}, Interaction: "read", Method: "GET",
			Path: "/Task/t" + strconv.Itoa(i), Resources: []string{"Task/t" + strconv.Itoa(i) + "/_history/1"},
			Status: 200, Address: "10.0.0.1"}
		if i%2 == 1 {
			e.ClientID, e.Organizations, e.Status, e.Interaction = "g-gp", []string{"G85001"}, 404, "search-type"
		}
		entries = append(entries, e)
	}
	if err := a.Append(ctx, entries[:4]); err != nil {
		t.Fatal(err)
	}
	if err := a.Append(ctx, entries[2:]); err != nil { // a retried batch: e2 and e3 again
		t.Fatalf("Append of a retried batch: %v", err)
	}
	for _, tc := range []struct {
		name string
		q    audit.Query
		want []string
	}{
		{"all, newest first", audit.Query{}, []string{"e5", "e4", "e3", "e2", "e1", "e0"}},
		{"by client", audit.Query{Agents: []string{"g-gp"}}, []string{"e5", "e3", "e1"}},
		{"by organisation", audit.Query{Agents: []string{"RJ1"}}, []string{"e4", "e2", "e0"}},
		{"by resource", audit.Query{Entities: []string{"Task/t2"}}, []string{"e2"}},
		{"by type", audit.Query{Entities: []string{"Task"}, Outcomes: []string{"4"}}, []string{"e5", "e3", "e1"}},
		{"by interaction", audit.Query{Interactions: []string{"read"}, Address: "10.0.0.1"}, []string{"e4", "e2", "e0"}},
		{"by time", audit.Query{From: t0.Add(time.Minute), To: t0.Add(3 * time.Minute)}, []string{"e2", "e1"}},
		{"paged", audit.Query{Count: 2, Offset: 2}, []string{"e3", "e2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page, err := a.Search(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, e := range page.Entries {
				ids = append(ids, e.ID)
			}
			if diff := cmp.Diff(tc.want, ids); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if tc.q.Count == 0 && page.Total != len(tc.want) {
				t.Errorf("total %d, want %d", page.Total, len(tc.want))
			}
		})
	}
	got, err := a.Get(ctx, "e3")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(entries[3], got); diff != "" {
		t.Errorf("Get (-appended +got):\n%s", diff)
	}
	if _, err := a.Get(ctx, "nope"); !errors.Is(err, audit.ErrNotFound) {
		t.Errorf("Get(nope) = %v", err)
	}
}
