package tracker_test

import (
	"fmt"
	"net/url"

	"github.com/porxgate/porxgate/mapping/tracker"
)

// Read a legacy tracker search as a healthcare worker's system sends it.
func ExampleParseTrackerSearch() {
	q, _ := url.ParseQuery("nhsNumber=9449304130&format=trace-summary")
	s, err := tracker.ParseTrackerSearch(q, "trace-summary")
	if err != nil {
		panic(err)
	}
	fmt.Printf("%+v\n", s)
	// Output:
	// {NHSNumber:9449304130 EarliestDate: LatestDate: PrescriptionStatus: PrescriptionVersion:}
}
