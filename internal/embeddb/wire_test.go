package embeddb

import (
	"encoding/binary"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// wireMsg builds a wire message: the header with opCode, then flags and the given sections (see body, sequence).
func wireMsg(opCode int32, flags uint32, sections ...[]byte) []byte {
	b := binary.LittleEndian.AppendUint32(make([]byte, 12), uint32(opCode)) // length, requestID, responseTo: later, 0, 0
	b = binary.LittleEndian.AppendUint32(b, flags)
	for _, s := range sections {
		b = append(b, s...)
	}
	binary.LittleEndian.PutUint32(b, uint32(len(b)))
	return b
}

// body is an OP_MSG kind-0 section: the command document.
func body(t testing.TB, doc bson.D) []byte {
	t.Helper()
	raw, err := bson.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte{0}, raw...)
}

// sequence is an OP_MSG kind-1 section: a document sequence named id.
func sequence(t testing.TB, id string, docs ...bson.D) []byte {
	t.Helper()
	b := append(make([]byte, 4), id...)
	b = append(b, 0)
	for _, d := range docs {
		raw, err := bson.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, raw...)
	}
	binary.LittleEndian.PutUint32(b, uint32(len(b)))
	return append([]byte{1}, b...)
}

func TestWriteCommandDB(t *testing.T) {
	insert := bson.D{{Key: "insert", Value: "things"}, {Key: "ordered", Value: true}, {Key: "$db", Value: "accord"}}
	docs := sequence(t, "documents", bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "_id", Value: 2}})
	insertMsg := wireMsg(opMsg, 0, body(t, insert), docs)
	withBody := func(n int) []byte { // insertMsg cut after n bytes, its length field saying so
		b := append([]byte(nil), insertMsg[:n]...)
		binary.LittleEndian.PutUint32(b, uint32(n))
		return b
	}
	everyType := bson.D{
		{Key: "update", Value: "things"},
		{Key: "updates", Value: bson.A{bson.D{{Key: "q", Value: bson.D{}}, {Key: "u", Value: bson.D{{Key: "$set", Value: bson.D{{Key: "n", Value: 1}}}}}}}},
		{Key: "d", Value: 1.5}, {Key: "s", Value: "text"}, {Key: "bin", Value: bson.Binary{Subtype: 4, Data: make([]byte, 16)}},
		{Key: "undef", Value: bson.Undefined{}}, {Key: "oid", Value: bson.NewObjectID()}, {Key: "b", Value: true},
		{Key: "t", Value: time.Unix(0, 0)}, {Key: "null", Value: nil}, {Key: "re", Value: bson.Regex{Pattern: "^a", Options: "i"}},
		{Key: "ptr", Value: bson.DBPointer{DB: "x", Pointer: bson.NewObjectID()}}, {Key: "js", Value: bson.JavaScript("1")},
		{Key: "sym", Value: bson.Symbol("s")}, {Key: "scope", Value: bson.CodeWithScope{Code: "x", Scope: bson.D{{Key: "x", Value: 1}}}},
		{Key: "i32", Value: int32(1)}, {Key: "ts", Value: bson.Timestamp{T: 1, I: 2}}, {Key: "i64", Value: int64(1)},
		{Key: "dec", Value: bson.NewDecimal128(1, 2)}, {Key: "min", Value: bson.MinKey{}}, {Key: "max", Value: bson.MaxKey{}},
		{Key: "$db", Value: "fhir"},
	}
	for _, tc := range []struct {
		name   string
		msg    []byte
		wantDB string
		gated  bool
	}{
		{"insert with a document sequence", insertMsg, "accord", true},
		{"insert after its sequence", wireMsg(opMsg, 0, docs, body(t, insert)), "accord", true},
		{"update with values of every type", wireMsg(opMsg, 0, body(t, everyType)), "fhir", true},
		{"delete", wireMsg(opMsg, 0, body(t, bson.D{{Key: "delete", Value: "c"}, {Key: "$db", Value: "d1"}})), "d1", true},
		{"findAndModify", wireMsg(opMsg, 0, body(t, bson.D{{Key: "findAndModify", Value: "c"}, {Key: "$db", Value: "d2"}})), "d2", true},
		{"dropDatabase", wireMsg(opMsg, 0, body(t, bson.D{{Key: "dropDatabase", Value: 1}, {Key: "$db", Value: "d3"}})), "d3", true},
		{"createIndexes", wireMsg(opMsg, 0, body(t, bson.D{{Key: "createIndexes", Value: "c"}, {Key: "$db", Value: "d4"}})), "d4", true},
		{"insert with a checksum", wireMsg(opMsg, flagChecksum, body(t, insert), docs, []byte{1, 2, 3, 4}), "accord", true},
		{"find", wireMsg(opMsg, 0, body(t, bson.D{{Key: "find", Value: "things"}, {Key: "filter", Value: bson.D{}}, {Key: "$db", Value: "accord"}})), "", false},
		{"aggregate", wireMsg(opMsg, 0, body(t, bson.D{{Key: "aggregate", Value: "things"}, {Key: "$db", Value: "accord"}})), "", false},
		{"ping", wireMsg(opMsg, 0, body(t, bson.D{{Key: "ping", Value: 1}, {Key: "$db", Value: "admin"}})), "", false},
		{"a write key not first", wireMsg(opMsg, 0, body(t, bson.D{{Key: "find", Value: "c"}, {Key: "insert", Value: "c"}, {Key: "$db", Value: "a"}})), "", false},
		{"insert with moreToCome", wireMsg(opMsg, flagMoreToCome, body(t, insert), docs), "", false},
		{"OP_QUERY", wireMsg(2004, 0, body(t, insert)), "", false},
		{"insert without $db", wireMsg(opMsg, 0, body(t, bson.D{{Key: "insert", Value: "things"}})), "", false},
		{"$db not a string", wireMsg(opMsg, 0, body(t, bson.D{{Key: "insert", Value: "things"}, {Key: "$db", Value: 1}})), "", false},
		{"no body", wireMsg(opMsg, 0, docs), "", false},
		{"unknown section kind", wireMsg(opMsg, 0, append([]byte{2}, body(t, insert)[1:]...)), "", false},
		{"truncated", insertMsg[:len(insertMsg)-3], "", false},
		{"truncated body", withBody(30), "", false},
		{"header only", withBody(16), "", false},
		{"empty", nil, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, gated := writeCommandDB(tc.msg)
			if db != tc.wantDB || gated != tc.gated {
				t.Errorf("writeCommandDB = (%q, %v), want (%q, %v)", db, gated, tc.wantDB, tc.gated)
			}
		})
	}
}
