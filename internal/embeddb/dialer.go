package embeddb

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"
)

// Dialer connects the MongoDB Go driver to the embedded database (it is an options.ContextDialer: pass it to
// options.Client().SetDialer) and queues write commands per database, in arrival order, in this process.
//
// FerretDB keeps one SQLite file per database and opens it with busy_timeout, so a writer that finds the file
// locked sleeps in SQLite's busy handler (1, 2, 5, 10… ms) and the file stays idle from the moment the lock is
// released until the sleeper wakes; with several concurrent writers, throughput stops growing. A connection made
// by Dialer takes its database's turn before it writes a write command (insert, update, delete, findAndModify,
// create, createIndexes, drop, dropIndexes, dropDatabase) and gives it back when the first bytes of the reply
// are read (FerretDB replies after its SQLite commit), when a read fails, or when the connection is closed.
// Reads (find, aggregate, getMore, hello…) never wait.
//
// Waiting cannot deadlock: the connection holding a turn has already written its command and the driver reads
// the reply at once on the same goroutine (or closes the connection on failure, which gives the turn back);
// FerretDB answers it without waiting for any other turn (at worst for an ungated SQLite writer, within
// busy_timeout), so every turn comes back. A connection holds at most
// one turn, and a write waiting for one gives up when its connection is closed (the driver closes it when the
// operation's context is cancelled) or its write deadline passes.
type Dialer struct {
	turns  *turns
	dialer net.Dialer
}

// Dialer returns a dialer whose connections queue this server's write commands per database (see Dialer).
func (s *Server) Dialer() *Dialer { return &Dialer{turns: s.turns} }

// DialContext connects to address; it returns the dial error, wrapped, when the connection cannot be made.
func (d *Dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	c, err := d.dialer.DialContext(ctx, network, address)
	if err != nil {
		return nil, fmt.Errorf("dial embedded database at %s: %w", address, err)
	}
	return &queuedConn{Conn: c, turns: d.turns, closed: make(chan struct{})}, nil
}

// queuedConn is a connection that holds its database's turn from writing a write command until the reply.
type queuedConn struct {
	net.Conn
	turns  *turns
	closed chan struct{} // closed by Close: a write waiting for a turn gives up

	mu            sync.Mutex
	held          *turn // the turn this connection holds, nil when none
	isClosed      bool
	writeDeadline time.Time
}

// Write writes one wire message, first taking its database's turn when it is a write command. The driver writes
// each wire message with a single Write (connection.write in x/mongo/driver/topology/connection.go, driver v2.9.3:
// `c.nc.Write(wm)`), so b is a whole message; anything else fails to parse and passes through ungated.
func (c *queuedConn) Write(b []byte) (int, error) {
	if db, ok := writeCommandDB(b); ok {
		if err := c.take(db); err != nil {
			return 0, err
		}
	}
	n, err := c.Conn.Write(b)
	if err != nil {
		c.giveBack() // no reply will come
	}
	return n, err
}

// Read reads from the connection; the first bytes of a reply, or an error, give the turn back.
func (c *queuedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 || err != nil {
		c.giveBack()
	}
	return n, err
}

// Close gives back the turn the connection holds, if any, and closes it. Closing twice is harmless.
func (c *queuedConn) Close() error {
	c.mu.Lock()
	already := c.isClosed
	c.isClosed = true
	c.mu.Unlock()
	if !already {
		close(c.closed)
	}
	c.giveBack()
	return c.Conn.Close()
}

// SetDeadline sets the read and write deadlines; the write deadline also bounds the wait for a turn of the
// Writes that follow (the driver sets it before each write).
func (c *queuedConn) SetDeadline(t time.Time) error {
	c.setWriteDeadline(t)
	return c.Conn.SetDeadline(t)
}

// SetWriteDeadline sets the write deadline, which also bounds the wait for a turn of the Writes that follow (the
// driver sets it before each write; a Write already waiting keeps the deadline it started with).
func (c *queuedConn) SetWriteDeadline(t time.Time) error {
	c.setWriteDeadline(t)
	return c.Conn.SetWriteDeadline(t)
}

func (c *queuedConn) setWriteDeadline(t time.Time) {
	c.mu.Lock()
	c.writeDeadline = t
	c.mu.Unlock()
}

// take waits for db's turn and holds it. It returns net.ErrClosed when the connection is closed first and
// os.ErrDeadlineExceeded when the write deadline passes first.
func (c *queuedConn) take(db string) error {
	c.giveBack() // at most one turn per connection (the driver reads every reply before its next write anyway)
	c.mu.Lock()
	deadline := c.writeDeadline
	c.mu.Unlock()
	t, err := c.turns.acquire(db, c.closed, deadline)
	if err != nil {
		return err
	}
	c.mu.Lock()
	closed := c.isClosed
	if !closed {
		c.held = t
	}
	c.mu.Unlock()
	if closed { // Close ran while the turn was being taken: it found nothing to give back
		c.turns.release(t)
		return net.ErrClosed
	}
	return nil
}

// giveBack releases the turn the connection holds; without one it does nothing, so it may be called any number
// of times.
func (c *queuedConn) giveBack() {
	c.mu.Lock()
	t := c.held
	c.held = nil
	c.mu.Unlock()
	if t != nil {
		c.turns.release(t)
	}
}
