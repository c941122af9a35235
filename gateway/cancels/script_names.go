package cancels

// ScriptNames maps the SHA1 of each of the cancellation tracker's Lua
// scripts to a name ("cancels.track", …), as store.ScriptNames does for
// the store's.
func ScriptNames() map[string]string {
	return map[string]string{
		trackScript.Hash():      "cancels.track",
		resolveScript.Hash():    "cancels.resolve",
		claimScript.Hash():      "cancels.claim",
		extendScript.Hash():     "cancels.extend",
		rescheduleScript.Hash(): "cancels.reschedule",
		completeScript.Hash():   "cancels.complete",
		expireScript.Hash():     "cancels.expire",
	}
}
