//go:build linux

package fhir

import (
	"syscall"
	"testing"
	"unsafe"
)

// TestAppendPlainAtPageEnd copies strings that end where a readable page
// ends and the next cannot be read, and strings that start in the last
// sixteen bytes of a page: appendPlain must read nothing past a string on
// the next page (a fault would end the test binary).
func TestAppendPlainAtPageEnd(t *testing.T) {
	size := syscall.Getpagesize()
	mem, err := syscall.Mmap(-1, 0, 2*size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skipf("mmap: %v", err)
	}
	defer syscall.Munmap(mem)
	if err := syscall.Mprotect(mem[size:], syscall.PROT_NONE); err != nil {
		t.Skipf("mprotect: %v", err)
	}
	page := mem[:size]
	for i := range page {
		page[i] = 'a' + byte(i%26)
	}
	for n := 0; n <= 40; n++ {
		for _, special := range []int{-1, 0, n - 1} {
			start := size - n
			if special >= 0 && n > 0 {
				page[start+special] = '"'
			}
			s := unsafe.String(unsafe.SliceData(page[start:]), n)
			checkAppendPlain(t, s)
			if got, want := string(appendString(nil, s)), string(appendEscaped(nil, s)); got != want {
				t.Fatalf("appendString(%q) = %s, want %s", s, got, want)
			}
			if special >= 0 && n > 0 {
				page[start+special] = 'a' + byte((start+special)%26)
			}
		}
	}
}
