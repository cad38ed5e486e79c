// Package xar writes and reads xar archives, the container of Apple flat
// packages (.pkg), including the RSA and CMS signatures that productsign adds.
//
// The writer follows what pkgbuild/productbuild produce: a zlib-compressed XML
// table of contents (TOC) protected by a SHA-1 checksum stored at the start of
// the heap, optionally followed by the two signatures of that checksum that
// productsign writes: RSA PKCS#1 v1.5 (<signature style="RSA">), then a
// detached CMS SignedData (<x-signature style="CMS">). SHA-1 is used for the TOC and file checksums because it is what
// Installer, pkgutil and libarchive's bsdtar all accept; the digest is only a
// content address under the signature, which is what carries trust.
package xar

import (
	"encoding/xml"
	"errors"
)

// Sentinel errors, tested with errors.Is.
var (
	// ErrFormat reports bytes that are not a well-formed xar archive.
	ErrFormat = errors.New("xar: malformed archive")
	// ErrChecksum reports a TOC or file whose bytes do not match their checksum.
	ErrChecksum = errors.New("xar: checksum mismatch")
	// ErrSignature reports a signature that does not verify with the leaf certificate.
	ErrSignature = errors.New("xar: signature does not verify")
	// ErrNotSigned reports an intact archive that carries no signature.
	ErrNotSigned = errors.New("xar: archive is not signed")
	// ErrNotFound reports a member name absent from the TOC.
	// (ErrSignature also covers a CMS signature that does not verify.)
	ErrNotFound = errors.New("xar: no such file")
)

const (
	magic      = 0x78617221 // "xar!"
	headerSize = 28
	version    = 1
	cksumSHA1  = 1

	// maxTOC bounds the decompressed TOC so a hostile archive cannot exhaust memory.
	maxTOC = 64 << 20

	xmldsigNS = "http://www.w3.org/2000/09/xmldsig#"
	timeFmt   = "2006-01-02T15:04:05Z"
)

// Member encodings, named as xar names them in the TOC.
const (
	encStored = "application/octet-stream"
	encZlib   = "application/x-gzip" // xar's name for a zlib stream
)

type document struct {
	XMLName xml.Name `xml:"xar"`
	TOC     toc      `xml:"toc"`
}

// toc keeps the element order of productsign's output: checksum,
// creation-time, the RSA signature, then the CMS one.
type toc struct {
	Checksum     heapRef    `xml:"checksum"`
	CreationTime string     `xml:"creation-time"`
	Signature    *signature `xml:"signature,omitempty"`
	XSignature   *signature `xml:"x-signature,omitempty"`
	Files        []*tocFile `xml:"file"`
}

type heapRef struct {
	Style  string `xml:"style,attr"`
	Size   int64  `xml:"size"`
	Offset int64  `xml:"offset"`
}

type signature struct {
	Style   string  `xml:"style,attr"`
	Offset  int64   `xml:"offset"`
	Size    int64   `xml:"size"`
	KeyInfo keyInfo `xml:"http://www.w3.org/2000/09/xmldsig# KeyInfo"`
}

type keyInfo struct {
	Certificates []string `xml:"X509Data>X509Certificate"`
}

type tocFile struct {
	ID    int        `xml:"id,attr"`
	Data  *fileData  `xml:"data,omitempty"`
	CTime string     `xml:"ctime"`
	MTime string     `xml:"mtime"`
	ATime string     `xml:"atime"`
	Group string     `xml:"group"`
	GID   int        `xml:"gid"`
	User  string     `xml:"user"`
	UID   int        `xml:"uid"`
	Mode  string     `xml:"mode"`
	Type  string     `xml:"type"`
	Name  string     `xml:"name"`
	Files []*tocFile `xml:"file"`
}

type fileData struct {
	Length    int64     `xml:"length"` // bytes in the heap
	Offset    int64     `xml:"offset"` // from the start of the heap
	Size      int64     `xml:"size"`   // bytes once decoded
	Encoding  encoding  `xml:"encoding"`
	Extracted digestRef `xml:"extracted-checksum"`
	Archived  digestRef `xml:"archived-checksum"`
}

type encoding struct {
	Style string `xml:"style,attr"`
}

type digestRef struct {
	Style string `xml:"style,attr"`
	Value string `xml:",chardata"`
}
