package embeddb

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

var _ options.ContextDialer = (*Dialer)(nil)

// startServer runs an embedded database for the test.
func startServer(t testing.TB) *Server {
	t.Helper()
	s, err := Start(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// queuedClient connects to s through s.Dialer.
func queuedClient(t testing.TB, s *Server) *mongo.Client {
	t.Helper()
	c, err := mongo.Connect(options.Client().ApplyURI(s.URI()).SetDialer(s.Dialer()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c
}

// rawConn dials s through its Dialer, for tests that write wire messages themselves.
func rawConn(t testing.TB, s *Server) net.Conn {
	t.Helper()
	u, err := url.Parse(s.URI())
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Dialer().DialContext(context.Background(), "tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// writeInsert writes an insert of one document into db.things on c, taking db's turn.
func writeInsert(t testing.TB, c net.Conn, db, id string) {
	t.Helper()
	msg := wireMsg(opMsg, 0, body(t, bson.D{
		{Key: "insert", Value: "things"}, {Key: "documents", Value: bson.A{bson.D{{Key: "_id", Value: id}}}}, {Key: "$db", Value: db},
	}))
	if _, err := c.Write(msg); err != nil {
		t.Fatalf("write insert: %v", err)
	}
}

// readReply reads one reply from c and fails the test unless its body says ok: 1.
func readReply(t testing.TB, c net.Conn) {
	t.Helper()
	var size [4]byte
	if _, err := io.ReadFull(c, size[:]); err != nil {
		t.Fatalf("read reply: %v", err)
	}
	msg := make([]byte, binary.LittleEndian.Uint32(size[:]))
	copy(msg, size[:])
	if _, err := io.ReadFull(c, msg[4:]); err != nil {
		t.Fatalf("read reply: %v", err)
	}
	if len(msg) < 21 || msg[20] != 0 {
		t.Fatalf("reply of %d bytes is not an OP_MSG with a body", len(msg))
	}
	if ok, _ := bson.Raw(msg[21:]).Lookup("ok").AsFloat64OK(); ok != 1 {
		t.Fatalf("reply %s is not ok", bson.Raw(msg[21:]))
	}
}

// insertOne inserts a document into db.things within 30 seconds (a turn never given back fails the test, not
// hangs it).
func insertOne(c *mongo.Client, db, id string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := c.Database(db).Collection("things").InsertOne(ctx, bson.D{{Key: "_id", Value: id}})
	return err
}

// waitFor polls until cond holds, failing the test after 30 seconds.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(30 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("still waiting for %s after 30s", what)
		}
	}
}

// dbStats is s's turn statistics of db.
func dbStats(s *Server, db string) turnStats {
	st, _ := s.turns.stats()
	return st[db]
}

// wantTurnFree checks that db's turn was held by at most one write at a time and is now free, with none waiting;
// why says what else the caller expects of it.
func wantTurnFree(t *testing.T, s *Server, db, why string) {
	t.Helper()
	if st := dbStats(s, db); st.MaxInFlight != 1 || st.InFlight != 0 || st.Waiting != 0 {
		t.Errorf("turn of %s: %+v, want at most 1 write in flight at once and none in flight or waiting now %s", db, st, why)
	}
}

func TestDialer_ConcurrentInserts_OneWriteInFlightPerDatabase(t *testing.T) {
	s := startServer(t)
	c := queuedClient(t, s)
	coll := c.Database("accord").Collection("things")
	var writers, readers sync.WaitGroup
	errs := make(chan error, 8*50+2)
	done := make(chan struct{})
	for w := range 8 {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for i := range 50 {
				if err := insertOne(c, "accord", fmt.Sprint(w, "-", i)); err != nil {
					errs <- fmt.Errorf("insert %d-%d: %w", w, i, err)
				}
			}
		}()
	}
	for range 2 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				cur, err := coll.Find(context.Background(), bson.D{})
				if err == nil {
					err = cur.All(context.Background(), &[]bson.M{})
				}
				if err != nil {
					errs <- fmt.Errorf("find: %w", err)
					return
				}
			}
		}()
	}
	writers.Wait()
	close(done)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n, err := coll.CountDocuments(context.Background(), bson.D{}); n != 400 || err != nil {
		t.Errorf("count = %d, %v; want 400", n, err)
	}
	wantTurnFree(t, s, "accord", "")
}

func TestDialer_TwoDatabases_DoNotWaitForEachOther(t *testing.T) {
	s := startServer(t)
	c := queuedClient(t, s)
	// A connection holds the turn of database a: it wrote an insert and has not read the reply.
	held := rawConn(t, s)
	writeInsert(t, held, "a", "held")
	if st := dbStats(s, "a"); st.InFlight != 1 {
		t.Fatalf("turn of a after a write: %+v, want 1 in flight", st)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 20 {
				if err := insertOne(c, "b", fmt.Sprint(i, "-", j)); err != nil {
					errs[i] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("inserts into b while a's turn is held: %v", err)
	}
	readReply(t, held)
	perDB, maxAll := s.turns.stats()
	for _, db := range []string{"a", "b"} {
		if st := perDB[db]; st.MaxInFlight != 1 || st.InFlight != 0 {
			t.Errorf("turn of %s: %+v, want at most 1 write in flight at once and none now", db, st)
		}
	}
	if maxAll != 2 {
		t.Errorf("most writes in flight at once over both databases: %d, want 2", maxAll)
	}
}

func TestDialer_SameDatabase_WriteWaitsForTurn(t *testing.T) {
	s := startServer(t)
	c := queuedClient(t, s)
	held := rawConn(t, s)
	writeInsert(t, held, "accord", "held")
	done := make(chan error, 1)
	go func() { done <- insertOne(c, "accord", "next") }()
	waitFor(t, "the insert to wait for the turn", func() bool { return dbStats(s, "accord").Waiting == 1 })
	select {
	case err := <-done:
		t.Fatalf("insert finished (%v) while another connection held the turn", err)
	default:
	}
	readReply(t, held)
	if err := <-done; err != nil {
		t.Fatalf("insert after the turn was given back: %v", err)
	}
	wantTurnFree(t, s, "accord", "")
}

func TestDialer_TurnGivenBack_NextWriteCompletes(t *testing.T) {
	for _, tc := range []struct {
		name string
		end  func(t *testing.T, c net.Conn)
	}{
		{"reply read", func(t *testing.T, c net.Conn) { readReply(t, c) }},
		{"closed before the reply", func(t *testing.T, c net.Conn) { _ = c.Close() }},
		{"closed twice", func(t *testing.T, c net.Conn) { _ = c.Close(); _ = c.Close() }},
		{"reply read, then closed", func(t *testing.T, c net.Conn) { readReply(t, c); _ = c.Close() }},
		{"read fails", func(t *testing.T, c net.Conn) {
			_ = c.SetReadDeadline(time.Now().Add(-time.Second))
			if _, err := c.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("read past its deadline: %v", err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t)
			raw := rawConn(t, s)
			writeInsert(t, raw, "accord", "raw")
			tc.end(t, raw)
			if st := dbStats(s, "accord"); st.InFlight != 0 {
				t.Fatalf("turn of accord after the %s: %+v, want it given back", tc.name, st)
			}
			c := queuedClient(t, s)
			for i := range 3 {
				if err := insertOne(c, "accord", fmt.Sprint("next-", i)); err != nil {
					t.Fatalf("insert after the %s: %v", tc.name, err)
				}
			}
			wantTurnFree(t, s, "accord", "(taken and given back once per write)")
		})
	}
}

func TestDialer_WaitingWrite_GivesUp(t *testing.T) {
	for _, tc := range []struct {
		name    string
		before  func(c net.Conn) // before the write
		stop    func(c net.Conn) // while it waits
		wantErr error
	}{
		{"connection closed", nil, func(c net.Conn) { _ = c.Close() }, net.ErrClosed},
		{"write deadline passed", func(c net.Conn) { _ = c.SetWriteDeadline(time.Now().Add(-time.Second)) }, nil, os.ErrDeadlineExceeded},
		{"deadline passed", func(c net.Conn) { _ = c.SetDeadline(time.Now().Add(-time.Second)) }, nil, os.ErrDeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t)
			held, waiting := rawConn(t, s), rawConn(t, s)
			writeInsert(t, held, "accord", "held")
			if tc.before != nil {
				tc.before(waiting)
			}
			msg := wireMsg(opMsg, 0, body(t, bson.D{{Key: "drop", Value: "things"}, {Key: "$db", Value: "accord"}}))
			done := make(chan error, 1)
			go func() { _, err := waiting.Write(msg); done <- err }()
			if tc.stop != nil {
				waitFor(t, "the write to wait for the turn", func() bool { return dbStats(s, "accord").Waiting == 1 })
				tc.stop(waiting)
			}
			if err := <-done; !errors.Is(err, tc.wantErr) {
				t.Errorf("waiting write: %v, want %v", err, tc.wantErr)
			}
			readReply(t, held)
			wantTurnFree(t, s, "accord", "(the given-up write never in flight)")
		})
	}
}

func TestDialer_CancelledWhileWaiting_TurnStaysFree(t *testing.T) {
	s := startServer(t)
	c := queuedClient(t, s)
	held := rawConn(t, s)
	writeInsert(t, held, "accord", "held")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.Database("accord").Collection("things").InsertOne(ctx, bson.D{{Key: "_id", Value: "cancelled"}})
		done <- err
	}()
	waitFor(t, "the insert to wait for the turn", func() bool { return dbStats(s, "accord").Waiting == 1 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled insert: %v, want context.Canceled", err)
	}
	readReply(t, held)
	if err := insertOne(c, "accord", "after"); err != nil {
		t.Fatalf("insert after a cancelled one: %v", err)
	}
	wantTurnFree(t, s, "accord", "")
}
