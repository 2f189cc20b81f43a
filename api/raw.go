package api

import "encoding/json"

// rawJSON embeds stored JSON in a Bundle without decoding it.
func rawJSON(b []byte) json.RawMessage { return json.RawMessage(b) }
