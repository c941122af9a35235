package store

// ScriptNames maps the SHA1 of each of the store's Lua scripts to a name
// ("store.accept", "store.claim", …), so that metrics and logs can say
// which script an EVALSHA ran. Each call returns a new map.
func ScriptNames() map[string]string {
	return map[string]string{
		acceptScript.Hash():           "store.accept",
		markScript.Hash():             "store.mark",
		touchMarkScript.Hash():        "store.touch_mark",
		enqueueScript.Hash():          "store.enqueue",
		claimScript.Hash():            "store.claim",
		extendScript.Hash():           "store.extend",
		retryScript.Hash():            "store.retry",
		completeScript.Hash():         "store.complete",
		completeClaimScript.Hash():    "store.complete_claim",
		requeueScript.Hash():          "store.requeue",
		dropScript.Hash():             "store.drop",
		reserveScript.Hash():          "store.reserve",
		holdScript.Hash():             "store.hold",
		dropHoldScript.Hash():         "store.drop_hold",
		putReplyScript.Hash():         "store.put_reply",
		putReplyRemovingScript.Hash(): "store.put_reply_removing",
		keepReplyScript.Hash():        "store.keep_reply",
		setAddScript.Hash():           "store.set_add",
		setRemoveScript.Hash():        "store.set_remove",
	}
}
