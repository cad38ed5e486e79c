package xar

import (
	"bytes"
	"compress/zlib"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/smallstep/pkcs7"
)

// File is one regular file of the archive. Parent directories are created
// implicitly, owned by root:wheel with mode 0755.
type File struct {
	Name     string // slash-separated, e.g. "agent.pkg/Payload"
	Data     []byte
	Mode     fs.FileMode
	ModTime  time.Time
	Compress bool // store zlib-compressed; false for members already compressed (Payload)
}

// Signer signs the TOC checksum the way productsign does.
type Signer struct {
	Key   *rsa.PrivateKey
	Chain []*x509.Certificate // leaf first, then intermediates
}

// Options controls Build.
type Options struct {
	Created time.Time // TOC creation-time and directory times
	Signer  *Signer   // nil for an unsigned archive
}

// Build returns a complete xar archive holding files in the given order.
func Build(files []File, opt Options) ([]byte, error) {
	var sigSize, cmsSize int64
	doc := document{TOC: toc{
		CreationTime: opt.Created.UTC().Format(timeFmt),
		Checksum:     heapRef{Style: "sha1", Offset: 0, Size: sha1.Size},
	}}
	if s := opt.Signer; s != nil {
		if s.Key == nil || len(s.Chain) == 0 {
			return nil, fmt.Errorf("xar: signer needs a key and a certificate chain")
		}
		pub, ok := s.Chain[0].PublicKey.(*rsa.PublicKey)
		if !ok || !pub.Equal(&s.Key.PublicKey) {
			return nil, fmt.Errorf("xar: leaf certificate does not match the signing key")
		}
		rsaSize := int64(s.Key.Size())
		// The CMS signature's length is only known once it is made, but
		// the TOC that it signs records it: reserve room, as productsign
		// does, from a trial signature.
		trial, err := cmsSign(s, make([]byte, sha1.Size))
		if err != nil {
			return nil, err
		}
		cmsSize = cmsReserve(len(trial))
		var chain keyInfo
		for _, c := range s.Chain {
			chain.Certificates = append(chain.Certificates, base64.StdEncoding.EncodeToString(c.Raw))
		}
		doc.TOC.Signature = &signature{Style: "RSA", Offset: sha1.Size, Size: rsaSize, KeyInfo: chain}
		doc.TOC.XSignature = &signature{Style: "CMS", Offset: sha1.Size + rsaSize, Size: cmsSize, KeyInfo: chain}
		sigSize = rsaSize + cmsSize
	}

	heap := make([]byte, sha1.Size+sigSize)
	nextID := 1
	dirs := map[string]*tocFile{}
	var dirFor func(string) (*[]*tocFile, error)
	dirFor = func(dir string) (*[]*tocFile, error) {
		if dir == "." {
			return &doc.TOC.Files, nil
		}
		if d, ok := dirs[dir]; ok {
			return &d.Files, nil
		}
		parent, err := dirFor(path.Dir(dir))
		if err != nil {
			return nil, err
		}
		d := node(nextID, path.Base(dir), "directory", fs.ModeDir|0o755, opt.Created)
		nextID++
		*parent = append(*parent, d)
		dirs[dir] = d
		return &d.Files, nil
	}
	seen := map[string]bool{}
	for _, f := range files {
		name := path.Clean(f.Name)
		if f.Name == "" || name != f.Name || strings.HasPrefix(name, "/") || strings.HasPrefix(name, "..") {
			return nil, fmt.Errorf("xar: invalid member name %q", f.Name)
		}
		if seen[name] || dirs[name] != nil {
			return nil, fmt.Errorf("xar: duplicate member %s", name)
		}
		seen[name] = true
		parent, err := dirFor(path.Dir(name))
		if err != nil {
			return nil, err
		}
		stored, style := f.Data, encStored
		if f.Compress {
			var z bytes.Buffer
			zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
			if _, err := zw.Write(f.Data); err != nil {
				return nil, fmt.Errorf("xar: compress %s: %w", name, err)
			}
			if err := zw.Close(); err != nil {
				return nil, fmt.Errorf("xar: compress %s: %w", name, err)
			}
			stored, style = z.Bytes(), encZlib
		}
		n := node(nextID, path.Base(name), "file", f.Mode, f.ModTime)
		nextID++
		n.Data = &fileData{
			Length:    int64(len(stored)),
			Offset:    int64(len(heap)),
			Size:      int64(len(f.Data)),
			Encoding:  encoding{Style: style},
			Extracted: digestRef{Style: "sha1", Value: sha1Hex(f.Data)},
			Archived:  digestRef{Style: "sha1", Value: sha1Hex(stored)},
		}
		heap = append(heap, stored...)
		*parent = append(*parent, n)
	}
	for name := range seen {
		if dirs[name] != nil {
			return nil, fmt.Errorf("xar: %s is both a file and a directory", name)
		}
	}

	tocXML, err := xml.MarshalIndent(doc, "", " ")
	if err != nil {
		return nil, fmt.Errorf("xar: encode toc: %w", err)
	}
	tocXML = append([]byte(xml.Header), tocXML...)
	var ztoc bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&ztoc, zlib.BestCompression)
	if _, err := zw.Write(tocXML); err != nil {
		return nil, fmt.Errorf("xar: compress toc: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("xar: compress toc: %w", err)
	}
	sum := sha1.Sum(ztoc.Bytes())
	copy(heap, sum[:])
	if s := opt.Signer; s != nil {
		sig, err := rsa.SignPKCS1v15(rand.Reader, s.Key, crypto.SHA1, sum[:])
		if err != nil {
			return nil, fmt.Errorf("xar: sign toc: %w", err)
		}
		copy(heap[sha1.Size:], sig)
		cms, err := cmsSign(s, sum[:])
		if err != nil {
			return nil, err
		}
		if int64(len(cms)) > cmsSize {
			return nil, fmt.Errorf("xar: CMS signature of %d bytes overflows the %d reserved", len(cms), cmsSize)
		}
		// The rest of the reserved room stays zero, as productsign leaves it.
		copy(heap[sha1.Size+len(sig):], cms)
	}

	out := make([]byte, headerSize, headerSize+ztoc.Len()+len(heap))
	binary.BigEndian.PutUint32(out[0:], magic)
	binary.BigEndian.PutUint16(out[4:], headerSize)
	binary.BigEndian.PutUint16(out[6:], version)
	binary.BigEndian.PutUint64(out[8:], uint64(ztoc.Len()))
	binary.BigEndian.PutUint64(out[16:], uint64(len(tocXML)))
	binary.BigEndian.PutUint32(out[24:], cksumSHA1)
	out = append(out, ztoc.Bytes()...)
	return append(out, heap...), nil
}

// cmsReservedSize is the room productsign leaves for the CMS signature (a
// Developer ID chain of three certificates is about 5 KB).
const cmsReservedSize = 9216

// cmsReserve returns the heap room for a CMS signature of about n bytes.
func cmsReserve(n int) int64 {
	const slack = 512 // signatures vary by a few bytes between runs
	if n+slack <= cmsReservedSize {
		return cmsReservedSize
	}
	return int64((n + slack + 1023) / 1024 * 1024)
}

// cmsSign makes the detached CMS SignedData of the TOC checksum: SHA-256
// digest, signed attributes (content type, message digest, signing time),
// and the whole chain in its certificates.
func cmsSign(s *Signer, checksum []byte) ([]byte, error) {
	sd, err := pkcs7.NewSignedData(checksum)
	if err != nil {
		return nil, fmt.Errorf("xar: CMS signature: %w", err)
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	if err := sd.AddSignerChain(s.Chain[0], s.Key, s.Chain[1:], pkcs7.SignerInfoConfig{}); err != nil {
		return nil, fmt.Errorf("xar: CMS signature: %w", err)
	}
	sd.Detach()
	der, err := sd.Finish()
	if err != nil {
		return nil, fmt.Errorf("xar: CMS signature: %w", err)
	}
	return der, nil
}

func node(id int, name, typ string, mode fs.FileMode, mtime time.Time) *tocFile {
	ts := mtime.UTC().Format(timeFmt)
	return &tocFile{
		ID: id, Name: name, Type: typ,
		CTime: ts, MTime: ts, ATime: ts,
		User: "root", UID: 0, Group: "wheel", GID: 0,
		Mode: fmt.Sprintf("%04o", mode.Perm()),
	}
}

func sha1Hex(b []byte) string {
	s := sha1.Sum(b)
	return hex.EncodeToString(s[:])
}
