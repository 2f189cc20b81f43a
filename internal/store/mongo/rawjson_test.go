package mongo

import (
	"bytes"
	"context"
	"encoding/binary"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/accord-fhir/accord/fhir"
	"github.com/accord-fhir/accord/internal/store"
)

func TestRawJSON_RoundTrip(t *testing.T) {
	task := `{"resourceType":"Task","id":"t1","meta":{"profile":["https://accord-fhir.github.io/ig/StructureDefinition/accord-task"]},` +
		`"code":{"coding":[{"system":"https://accord-fhir.github.io/ig/CodeSystem/consensus-clause","code":"2.5"}]},` +
		`"note":[{"text":"` + strings.Repeat("café ☕ ", 40) + `"}],"status":"requested","intent":"order"}`
	for _, tc := range []struct {
		name        string
		json        string
		wantSubtype byte
	}{
		{"a resource: compressed", task, subtypeS2},
		{"a tiny resource: as it is", `{"resourceType":"Basic"}`, 0x00},
		{"incompressible bytes: as they are", incompressible(4096), 0x00},
		{"empty", "", 0x00},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := bson.Marshal(struct {
				Raw rawJSON `bson:"raw"`
			}{rawJSON{json: []byte(tc.json)}})
			if err != nil {
				t.Fatal(err)
			}
			v := bson.Raw(doc).Lookup("raw")
			subtype, payload, ok := v.BinaryOK()
			if !ok || subtype != tc.wantSubtype {
				t.Fatalf("stored as %s subtype 0x%02x, want binary subtype 0x%02x", v.Type, subtype, tc.wantSubtype)
			}
			if tc.wantSubtype == subtypeS2 && len(payload) >= len(tc.json)*3/4 {
				t.Errorf("compressed to %d of %d bytes", len(payload), len(tc.json))
			}
			var back struct {
				Raw rawJSON `bson:"raw"`
			}
			if err := bson.Unmarshal(doc, &back); err != nil {
				t.Fatal(err)
			}
			if string(back.Raw.json) != tc.json {
				t.Errorf("read back %q, want the bytes written", back.Raw.json)
			}
		})
	}
}

// JSON that earlier versions stored (a plain binary, generic or the old subtype 2) reads as it was.
func TestRawJSON_ReadsUncompressed(t *testing.T) {
	const js = `{"resourceType":"Patient","id":"p"}`
	for _, v := range []bson.Binary{{Subtype: 0x00, Data: []byte(js)}, {Subtype: 0x02, Data: []byte(js)}} { // 0x02 carries a second length
		doc, err := bson.Marshal(bson.D{{Key: "raw", Value: v}})
		if err != nil {
			t.Fatal(err)
		}
		var back struct {
			Raw rawJSON `bson:"raw"`
		}
		if err := bson.Unmarshal(doc, &back); err != nil || string(back.Raw.json) != js {
			t.Errorf("subtype 0x%02x: read %q (%v), want %q", v.Subtype, back.Raw.json, err, js)
		}
	}
}

func TestRawJSON_DamagedRefused(t *testing.T) {
	huge := make([]byte, binary.MaxVarintLen64)
	huge = huge[:binary.PutUvarint(huge, maxRawJSON+1)]
	for _, tc := range []struct {
		name  string
		value bson.RawValue
	}{
		{"not a binary", bson.RawValue{Type: bson.TypeString, Value: bsoncoreString("{}")}},
		{"unknown subtype", binaryValue(0x81, []byte("{}"))},
		{"corrupt compressed bytes", binaryValue(subtypeS2, []byte{0x20, 0xff, 0xff, 0xff})},
		{"a length beyond the limit", binaryValue(subtypeS2, huge)},
		{"no header", bson.RawValue{Type: bson.TypeBinary, Value: []byte{1, 0}}},
		{"length and bytes disagree", bson.RawValue{Type: bson.TypeBinary, Value: []byte{9, 0, 0, 0, 0, '{', '}'}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r rawJSON
			if err := r.UnmarshalBSONValue(byte(tc.value.Type), tc.value.Value); err == nil || !strings.Contains(err.Error(), "stored resource JSON") {
				t.Errorf("err = %v, want a stored resource JSON error", err)
			}
		})
	}
}

func binaryValue(subtype byte, data []byte) bson.RawValue {
	v := make([]byte, 5+len(data))
	binary.LittleEndian.PutUint32(v, uint32(len(data)))
	v[4] = subtype
	copy(v[5:], data)
	return bson.RawValue{Type: bson.TypeBinary, Value: v}
}

func bsoncoreString(s string) []byte {
	v := make([]byte, 4+len(s)+1)
	binary.LittleEndian.PutUint32(v, uint32(len(s)+1))
	copy(v[4:], s)
	return v
}

// A write encodes its JSON once: the packed form is what marshalling would give, and an absent JSON is omitted.
func TestRawJSON_PackedAndOmitted(t *testing.T) {
	js := []byte(`{"resourceType":"Task","status":"requested","intent":"order","description":"` + strings.Repeat("discharge summary ", 20) + `"}`)
	type doc struct {
		Raw rawJSON `bson:"raw,omitempty"`
	}
	packed, err := bson.Marshal(doc{packJSON(js)})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := bson.Marshal(doc{rawJSON{json: js}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(packed, plain) {
		t.Error("the packed encoding differs from the encoding of the JSON")
	}
	empty, err := bson.Marshal(doc{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bson.Raw(empty).LookupErr("raw"); err == nil {
		t.Error("an absent JSON is written")
	}
}

// Through a commit, the version and the current view hold the JSON compressed, and reads give it back exactly.
func TestCommit_StoresJSONCompressed(t *testing.T) {
	s, _ := newTestStore(t, nil)
	ctx := context.Background()
	obj := basic(strings.Repeat("compressible ", 50), "")
	res := mustCommit(t, s, store.Write{Type: "Basic", ID: "z", Object: obj, Method: "PUT"})
	want := res[0].Resource.JSON
	for name, coll := range map[string]*mongo.Collection{"version": s.versionsOf("Basic"), "view": s.current("Basic")} {
		key := "z"
		if name == "version" {
			key = versionKey("Basic", "z", 1)
		}
		var doc bson.Raw
		if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: key}}).Decode(&doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		subtype, payload, ok := doc.Lookup("raw").BinaryOK()
		if !ok || subtype != subtypeS2 || len(payload) >= len(want)/2 {
			t.Errorf("%s: raw is subtype 0x%02x of %d bytes, want S2-compressed JSON of %d bytes", name, subtype, len(payload), len(want))
		}
	}
	for _, read := range []func() (fhir.Resource, error){
		func() (fhir.Resource, error) { return s.Read(ctx, "Basic", "z") },
		func() (fhir.Resource, error) { return s.VRead(ctx, "Basic", "z", "1") },
	} {
		r, err := read()
		if err != nil || !bytes.Equal(r.JSON, want) {
			t.Errorf("read back %s (%v), want the JSON committed", r.JSON, err)
		}
	}
}
