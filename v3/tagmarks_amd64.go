package v3

// markTag reads the start tag at src[i:] (after its '<') when it is
// written the plain way plainTag reads (see plainTag) and has at most
// maxN attributes, its value bytes printable ASCII (no tab or line feed,
// which plainTagWords reads), every sixteen-byte block it looks at within
// src; it writes where the parts are into m and returns the index after
// the tag's '>'. For any other tag it returns 0, and what it wrote into m
// means nothing. Sixteen bytes a step (SSE2, tagmarks_amd64.s).
//
//go:noescape
func markTag(src string, i, maxN int, m *tagMarks) (end int)
