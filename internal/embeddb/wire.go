package embeddb

import "encoding/binary"

// Wire protocol constants; see https://www.mongodb.com/docs/manual/reference/mongodb-wire-protocol/.
const (
	opMsg          = 2013
	msgHeaderLen   = 16
	flagChecksum   = 1 << 0
	flagMoreToCome = 1 << 1
)

// isWriteCommand reports whether a command changes its database's SQLite file: such commands queue for the
// database's turn.
func isWriteCommand(name string) bool {
	switch name {
	case "insert", "update", "delete", "findAndModify", "create", "createIndexes", "drop", "dropIndexes", "dropDatabase":
		return true
	}
	return false
}

// writeCommandDB reports whether msg, one whole wire message, is a write command that expects a reply, and the
// database ("$db") it writes to. Anything it cannot parse, and every other message, is not one.
func writeCommandDB(msg []byte) (string, bool) {
	if len(msg) < msgHeaderLen+4 || int(binary.LittleEndian.Uint32(msg)) != len(msg) ||
		binary.LittleEndian.Uint32(msg[12:]) != opMsg {
		return "", false
	}
	flags := binary.LittleEndian.Uint32(msg[msgHeaderLen:])
	if flags&flagMoreToCome != 0 {
		return "", false // no reply comes, so nothing would give the turn back
	}
	sections := msg[msgHeaderLen+4:]
	if flags&flagChecksum != 0 {
		if len(sections) < 4 {
			return "", false
		}
		sections = sections[:len(sections)-4]
	}
	body, ok := bodySection(sections)
	if !ok {
		return "", false
	}
	return commandDB(body)
}

// bodySection returns the kind-0 section (the command document) among an OP_MSG's sections, skipping kind-1
// document sequences.
func bodySection(b []byte) ([]byte, bool) {
	for len(b) > 0 {
		kind, rest := b[0], b[1:]
		if len(rest) < 4 {
			return nil, false
		}
		n := int(int32(binary.LittleEndian.Uint32(rest)))
		if n < 4 || n > len(rest) {
			return nil, false
		}
		switch kind {
		case 0:
			return rest[:n], true
		case 1:
			b = rest[n:]
		default:
			return nil, false
		}
	}
	return nil, false
}

// commandDB reads a command document: it reports whether its first key names a write command, and its "$db"
// (a write without a "$db" string is not gated).
func commandDB(doc []byte) (string, bool) {
	if len(doc) < 5 || doc[len(doc)-1] != 0 {
		return "", false
	}
	elems := doc[4 : len(doc)-1]
	var db string
	for first := true; len(elems) > 0; first = false {
		typ, key, val, rest, ok := nextElement(elems)
		if !ok || first && !isWriteCommand(key) {
			return "", false // reads stop here, at their first key
		}
		if key == "$db" {
			if typ != 0x02 {
				return "", false
			}
			if db, ok = bsonString(val); !ok {
				return "", false
			}
		}
		elems = rest
	}
	return db, db != ""
}

// nextElement splits the first element off a document's element list: its type, key and value bytes.
func nextElement(b []byte) (typ byte, key string, val, rest []byte, ok bool) {
	typ = b[0]
	k, after, ok := cstring(b[1:])
	if !ok {
		return 0, "", nil, nil, false
	}
	n, ok := valueLen(typ, after)
	if !ok || n > len(after) {
		return 0, "", nil, nil, false
	}
	return typ, k, after[:n], after[n:], true
}

// valueLen is the length in bytes of a BSON value of type typ at the start of b.
func valueLen(typ byte, b []byte) (int, bool) {
	switch typ {
	case 0x06, 0x0A, 0x7F, 0xFF: // undefined, null, max key, min key
		return 0, true
	case 0x08: // boolean
		return 1, true
	case 0x10: // int32
		return 4, true
	case 0x01, 0x09, 0x11, 0x12: // double, datetime, timestamp, int64
		return 8, true
	case 0x07: // ObjectId
		return 12, true
	case 0x13: // decimal128
		return 16, true
	case 0x02, 0x0D, 0x0E: // string, JavaScript code, symbol: int32 length, then that many bytes
		return prefixedLen(b, 4)
	case 0x0C: // DBPointer: a string, then an ObjectId
		n, ok := prefixedLen(b, 4)
		return n + 12, ok
	case 0x05: // binary: int32 length, subtype, bytes
		return prefixedLen(b, 5)
	case 0x03, 0x04, 0x0F: // document, array, code with scope: int32 length counting itself
		return prefixedLen(b, 0)
	case 0x0B: // regular expression: two cstrings
		_, r1, ok := cstring(b)
		if !ok {
			return 0, false
		}
		_, r2, ok := cstring(r1)
		return len(b) - len(r2), ok
	}
	return 0, false
}

// prefixedLen reads an int32 length at the start of b and returns it plus extra (the bytes it does not count).
func prefixedLen(b []byte, extra int) (int, bool) {
	if len(b) < 4 {
		return 0, false
	}
	n := int(int32(binary.LittleEndian.Uint32(b)))
	if n < 0 || n+extra < 4 {
		return 0, false
	}
	return n + extra, true
}

// cstring splits a NUL-terminated string off b.
func cstring(b []byte) (string, []byte, bool) {
	for i, c := range b {
		if c == 0 {
			return string(b[:i]), b[i+1:], true
		}
	}
	return "", nil, false
}

// bsonString decodes a BSON string value: int32 length counting the trailing NUL, the bytes, NUL.
func bsonString(v []byte) (string, bool) {
	if len(v) < 5 || v[len(v)-1] != 0 {
		return "", false
	}
	return string(v[4 : len(v)-1]), true
}
