package mongo

import (
	"encoding/binary"
	"fmt"

	"github.com/klauspost/compress/s2"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// rawJSON is a resource's JSON as versions and current views store it ("raw"): a BSON binary whose subtype says
// how it is held. Subtype 0 (generic) is the JSON itself, as earlier versions of Accord wrote it; subtype
// subtypeS2 is the JSON compressed with S2 (github.com/klauspost/compress/s2, a faster superset of Snappy), which
// is what is written now whenever it is smaller. The bytes decoded are exactly the bytes encoded: a resource is
// still stored exactly as received.
//
// FHIR JSON repeats its element names and canonical URLs, so it shrinks to about half; every byte not written
// is a byte the embedded database does not encode, parse, journal and checkpoint, and that MongoDB does not ship
// to its replicas. A write encodes its JSON once (packJSON) for both the version and the current view.
type rawJSON struct {
	json   []byte // the resource's JSON
	packed []byte // its BSON binary value, when already encoded
}

// packJSON returns js with its stored form encoded.
func packJSON(js []byte) rawJSON { return rawJSON{json: js, packed: encodeRaw(js)} }

// subtypeS2 is the user-defined BSON binary subtype of S2-compressed JSON.
const subtypeS2 = 0x80

// maxRawJSON bounds the decoded size of stored JSON: a resource is at most a few MiB (the request limits), so a
// larger length can only come from a damaged document.
const maxRawJSON = 64 << 20

// minCompressed is the size below which JSON is stored as it is: compressing it would save nearly nothing.
const minCompressed = 128

// IsZero reports an absent JSON (the view of a deleted resource), which omitempty leaves out.
func (r rawJSON) IsZero() bool { return len(r.json) == 0 && len(r.packed) == 0 }

// MarshalBSONValue encodes r as a BSON binary: compressed when that is smaller.
func (r rawJSON) MarshalBSONValue() (byte, []byte, error) {
	if r.packed != nil {
		return byte(bson.TypeBinary), r.packed, nil
	}
	return byte(bson.TypeBinary), encodeRaw(r.json), nil
}

// encodeRaw is the BSON binary value of js: S2-compressed when that is smaller.
func encodeRaw(js []byte) []byte {
	subtype, payload := byte(0), js
	if len(js) >= minCompressed {
		if z := s2.Encode(nil, js); len(z) < len(js) {
			subtype, payload = subtypeS2, z
		}
	}
	data := make([]byte, 5+len(payload))
	binary.LittleEndian.PutUint32(data, uint32(len(payload)))
	data[4] = subtype
	copy(data[5:], payload)
	return data
}

// UnmarshalBSONValue decodes a BSON binary written by MarshalBSONValue (or by earlier versions, uncompressed); a
// null or missing value (the view of a deleted resource) is empty.
func (r *rawJSON) UnmarshalBSONValue(typ byte, data []byte) error {
	switch bson.Type(typ) {
	case bson.TypeNull, bson.TypeUndefined:
		*r = rawJSON{}
		return nil
	case bson.TypeBinary:
	default:
		return fmt.Errorf("stored resource JSON: BSON type %s, not binary", bson.Type(typ))
	}
	if len(data) < 5 {
		return fmt.Errorf("stored resource JSON: a binary of %d bytes has no header", len(data))
	}
	n, subtype, payload := binary.LittleEndian.Uint32(data), data[4], data[5:]
	if subtype == 0x02 && len(payload) >= 4 { // the old binary subtype carries a second length
		n, payload = binary.LittleEndian.Uint32(payload), payload[4:]
	}
	if int64(n) != int64(len(payload)) {
		return fmt.Errorf("stored resource JSON: binary length %d, %d bytes present", n, len(payload))
	}
	switch subtype {
	case 0x00, 0x02:
		*r = rawJSON{json: append([]byte(nil), payload...)}
	case subtypeS2:
		size, err := s2.DecodedLen(payload)
		if err != nil {
			return fmt.Errorf("stored resource JSON: %w", err)
		}
		if size > maxRawJSON {
			return fmt.Errorf("stored resource JSON: decodes to %d bytes, more than %d", size, maxRawJSON)
		}
		out, err := s2.Decode(make([]byte, size), payload)
		if err != nil {
			return fmt.Errorf("stored resource JSON: %w", err)
		}
		*r = rawJSON{json: out}
	default:
		return fmt.Errorf("stored resource JSON: unknown binary subtype 0x%02x", subtype)
	}
	return nil
}
