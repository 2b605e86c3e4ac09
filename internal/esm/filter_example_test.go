package esm_test

import (
	"fmt"
	"log"

	"github.com/ttl-archiver/ttl-archiver/internal/esm"
)

func ExampleParseFilterPattern() {
	p, err := esm.ParseFilterPattern(`{"eventName":["REMOVE"],"userIdentity":{"type":["Service"],"principalId":["dynamodb.amazonaws.com"]}}`)
	if err != nil {
		log.Fatal(err)
	}
	for _, rec := range []string{
		`{"eventName":"REMOVE","userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"}}`,
		`{"eventName":"REMOVE"}`,
	} {
		ok, err := p.MatchJSON([]byte(rec))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(ok)
	}
	// Output:
	// true
	// false
}
