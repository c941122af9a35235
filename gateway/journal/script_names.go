package journal

// ScriptNames maps the SHA1 of each of the journal's Lua scripts to a name
// ("journal.evict"), as store.ScriptNames does for the store's.
func ScriptNames() map[string]string {
	return map[string]string{evictScript.Hash(): "journal.evict", applyScript.Hash(): "journal.apply"}
}
