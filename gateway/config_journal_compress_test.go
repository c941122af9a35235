package gateway

import "testing"

// TestJournalCompressSetting: the Redis journal keeps payloads as they are
// unless --journal-compress or PORXGATE_JOURNAL_COMPRESS=true asks for
// compression; a value that is not a boolean is refused.
func TestJournalCompressSetting(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		env     map[string]string
		want    bool
		wantErr bool
	}{
		{name: "default", want: false},
		{name: "env on", env: map[string]string{"PORXGATE_JOURNAL_COMPRESS": "true"}, want: true},
		{name: "flag off", args: []string{"--journal-compress=false"}, want: false},
		{name: "flag on", args: []string{"--journal-compress"}, want: true},
		{name: "env off", env: map[string]string{"PORXGATE_JOURNAL_COMPRESS": "false"}, want: false},
		{name: "flag over env", args: []string{"--journal-compress=true"}, env: map[string]string{"PORXGATE_JOURNAL_COMPRESS": "false"}, want: true},
		{name: "env not a boolean", env: map[string]string{"PORXGATE_JOURNAL_COMPRESS": "maybe"}, wantErr: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := LoadConfig(c.args, func(k string) string { return c.env[k] })
			if c.wantErr {
				if err == nil {
					t.Fatalf("LoadConfig = %+v, want an error", cfg.Journal)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Journal.Compress != c.want {
				t.Errorf("Journal.Compress = %v, want %v", cfg.Journal.Compress, c.want)
			}
		})
	}
}
