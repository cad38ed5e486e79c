package xar

import (
	"bytes"
	"compress/zlib"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/smallstep/pkcs7"
)

// Member is a regular file listed in the TOC.
type Member struct {
	Name string // full slash-separated path
	Mode string // octal, as written in the TOC
	UID  int
	GID  int
	data fileData
}

// Archive is an opened xar archive whose TOC has been checked against its
// checksum. Member data is read and checked lazily by ReadFile.
type Archive struct {
	r        io.ReaderAt
	size     int64
	heapOff  int64
	zTOC     []byte
	tocSum   []byte
	doc      document
	members  map[string]Member
	dirNames []string
}

// Open parses the header and the TOC of the archive in r and checks the TOC
// checksum. It does not check the signature: see Verify.
func Open(r io.ReaderAt, size int64) (*Archive, error) {
	var h [headerSize]byte
	if _, err := r.ReadAt(h[:], 0); err != nil {
		return nil, fmt.Errorf("xar: read header: %w: %w", ErrFormat, err)
	}
	be := binary.BigEndian
	if be.Uint32(h[0:]) != magic {
		return nil, fmt.Errorf("xar: bad magic: %w", ErrFormat)
	}
	hsize := int64(be.Uint16(h[4:]))
	zlen, ulen := be.Uint64(h[8:]), be.Uint64(h[16:])
	if hsize < headerSize || be.Uint32(h[24:]) != cksumSHA1 {
		return nil, fmt.Errorf("xar: unsupported header (size %d, checksum algorithm %d): %w", hsize, be.Uint32(h[24:]), ErrFormat)
	}
	if zlen > maxTOC || ulen > maxTOC || int64(zlen) > size-hsize {
		return nil, fmt.Errorf("xar: toc length %d/%d out of bounds: %w", zlen, ulen, ErrFormat)
	}
	a := &Archive{r: r, size: size, heapOff: hsize + int64(zlen), zTOC: make([]byte, zlen), members: map[string]Member{}}
	if _, err := r.ReadAt(a.zTOC, hsize); err != nil {
		return nil, fmt.Errorf("xar: read toc: %w: %w", ErrFormat, err)
	}
	zr, err := zlib.NewReader(bytes.NewReader(a.zTOC))
	if err != nil {
		return nil, fmt.Errorf("xar: toc: %w: %w", ErrFormat, err)
	}
	tocXML, err := io.ReadAll(io.LimitReader(zr, int64(ulen)+1))
	if err != nil || uint64(len(tocXML)) != ulen {
		return nil, fmt.Errorf("xar: toc does not decompress to %d bytes: %w", ulen, ErrFormat)
	}
	if err := xml.Unmarshal(tocXML, &a.doc); err != nil {
		return nil, fmt.Errorf("xar: parse toc: %w: %w", ErrFormat, err)
	}
	ck := a.doc.TOC.Checksum
	if ck.Style != "sha1" || ck.Size != sha1.Size {
		return nil, fmt.Errorf("xar: toc checksum style %q size %d unsupported: %w", ck.Style, ck.Size, ErrFormat)
	}
	if a.tocSum, err = a.heap(ck.Offset, ck.Size); err != nil {
		return nil, fmt.Errorf("xar: toc checksum: %w", err)
	}
	if got := sha1.Sum(a.zTOC); subtle.ConstantTimeCompare(got[:], a.tocSum) != 1 {
		return nil, fmt.Errorf("xar: toc: %w", ErrChecksum)
	}
	if err := a.index("", a.doc.TOC.Files, 0); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *Archive) heap(off, n int64) ([]byte, error) {
	if off < 0 || n < 0 || off > a.size-a.heapOff || n > a.size-a.heapOff-off {
		return nil, fmt.Errorf("heap range %d+%d out of bounds: %w", off, n, ErrFormat)
	}
	b := make([]byte, n)
	if _, err := a.r.ReadAt(b, a.heapOff+off); err != nil {
		return nil, fmt.Errorf("read heap: %w", err)
	}
	return b, nil
}

func (a *Archive) index(dir string, files []*tocFile, depth int) error {
	if depth > 64 {
		return fmt.Errorf("xar: toc nested too deeply: %w", ErrFormat)
	}
	for _, f := range files {
		if f.Name == "" || strings.Contains(f.Name, "/") || f.Name == "." || f.Name == ".." {
			return fmt.Errorf("xar: unsafe member name %q: %w", f.Name, ErrFormat)
		}
		name := path.Join(dir, f.Name)
		switch f.Type {
		case "directory":
			a.dirNames = append(a.dirNames, name)
			if err := a.index(name, f.Files, depth+1); err != nil {
				return err
			}
		case "file":
			if f.Data == nil {
				return fmt.Errorf("xar: %s has no data: %w", name, ErrFormat)
			}
			if _, dup := a.members[name]; dup {
				return fmt.Errorf("xar: duplicate member %s: %w", name, ErrFormat)
			}
			a.members[name] = Member{Name: name, Mode: f.Mode, UID: f.UID, GID: f.GID, data: *f.Data}
		default:
			return fmt.Errorf("xar: %s has unsupported type %q: %w", name, f.Type, ErrFormat)
		}
	}
	return nil
}

// Names lists the regular files of the archive, sorted.
func (a *Archive) Names() []string {
	out := make([]string, 0, len(a.members))
	for n := range a.members {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Dirs lists the directories of the archive in TOC order.
func (a *Archive) Dirs() []string { return append([]string(nil), a.dirNames...) }

// Stat returns the TOC entry of a regular file.
func (a *Archive) Stat(name string) (Member, error) {
	m, ok := a.members[name]
	if !ok {
		return Member{}, fmt.Errorf("xar: %s: %w", name, ErrNotFound)
	}
	return m, nil
}

// TOC returns the decompressed XML table of contents.
func (a *Archive) TOC() ([]byte, error) {
	zr, err := zlib.NewReader(bytes.NewReader(a.zTOC))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// ReadFile returns the decoded contents of a member after checking both its
// archived and extracted checksums.
func (a *Archive) ReadFile(name string) ([]byte, error) {
	m, err := a.Stat(name)
	if err != nil {
		return nil, err
	}
	d := m.data
	stored, err := a.heap(d.Offset, d.Length)
	if err != nil {
		return nil, fmt.Errorf("xar: %s: %w", name, err)
	}
	if err := checkDigest(d.Archived, stored); err != nil {
		return nil, fmt.Errorf("xar: %s archived data: %w", name, err)
	}
	var out []byte
	switch d.Encoding.Style {
	case encStored, "":
		out = stored
	case encZlib:
		zr, err := zlib.NewReader(bytes.NewReader(stored))
		if err != nil {
			return nil, fmt.Errorf("xar: %s: %w: %w", name, ErrFormat, err)
		}
		if d.Size < 0 || d.Size > maxTOC*16 {
			return nil, fmt.Errorf("xar: %s: size %d out of bounds: %w", name, d.Size, ErrFormat)
		}
		if out, err = io.ReadAll(io.LimitReader(zr, d.Size+1)); err != nil {
			return nil, fmt.Errorf("xar: %s: %w: %w", name, ErrFormat, err)
		}
	default:
		return nil, fmt.Errorf("xar: %s: unsupported encoding %q: %w", name, d.Encoding.Style, ErrFormat)
	}
	if int64(len(out)) != d.Size {
		return nil, fmt.Errorf("xar: %s: decoded %d bytes, toc says %d: %w", name, len(out), d.Size, ErrFormat)
	}
	if err := checkDigest(d.Extracted, out); err != nil {
		return nil, fmt.Errorf("xar: %s extracted data: %w", name, err)
	}
	return out, nil
}

func checkDigest(ref digestRef, b []byte) error {
	if ref.Style != "sha1" {
		return fmt.Errorf("checksum style %q unsupported: %w", ref.Style, ErrFormat)
	}
	want, err := hex.DecodeString(strings.TrimSpace(ref.Value))
	if err != nil {
		return fmt.Errorf("checksum %q: %w", ref.Value, ErrFormat)
	}
	got := sha1.Sum(b)
	if subtle.ConstantTimeCompare(got[:], want) != 1 {
		return ErrChecksum
	}
	return nil
}

// Signature returns the certificate chain embedded in the TOC and checks that
// the leaf's RSA key signed the TOC checksum and, when the TOC has a CMS
// x-signature (productsign writes both), that the CMS SignedData is a valid
// signature of the checksum by the same leaf. It returns ErrNotSigned when
// the archive has no signature. Trust in the chain is the caller's decision
// (for example x509.Certificate.Verify against Apple's roots).
func (a *Archive) Signature() ([]*x509.Certificate, error) {
	s := a.doc.TOC.Signature
	if s == nil {
		if a.doc.TOC.XSignature != nil {
			return nil, fmt.Errorf("xar: CMS signature without the RSA one: %w", ErrFormat)
		}
		return nil, ErrNotSigned
	}
	if s.Style != "RSA" {
		return nil, fmt.Errorf("xar: signature style %q: %w", s.Style, ErrFormat)
	}
	chain, err := parseChain(s.KeyInfo)
	if err != nil {
		return nil, err
	}
	pub, ok := chain[0].PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("xar: leaf key is %T, not RSA: %w", chain[0].PublicKey, ErrSignature)
	}
	sig, err := a.heap(s.Offset, s.Size)
	if err != nil {
		return nil, fmt.Errorf("xar: signature: %w", err)
	}
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA1, a.tocSum, sig); err != nil {
		return nil, fmt.Errorf("xar: %w: %w", ErrSignature, err)
	}
	if x := a.doc.TOC.XSignature; x != nil {
		if err := a.verifyCMS(x, chain[0]); err != nil {
			return nil, err
		}
	}
	return chain, nil
}

// parseChain decodes the base64 DER certificates of a KeyInfo, leaf first.
func parseChain(k keyInfo) ([]*x509.Certificate, error) {
	if len(k.Certificates) == 0 {
		return nil, fmt.Errorf("xar: signature carries no certificate: %w", ErrFormat)
	}
	var chain []*x509.Certificate
	for i, enc := range k.Certificates {
		der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(enc), ""))
		if err != nil {
			return nil, fmt.Errorf("xar: certificate %d: %w: %w", i, ErrFormat, err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("xar: certificate %d: %w: %w", i, ErrFormat, err)
		}
		chain = append(chain, c)
	}
	return chain, nil
}

// verifyCMS checks the x-signature: a detached CMS SignedData over the TOC
// checksum bytes, followed in its heap room by zero padding, made by leaf.
func (a *Archive) verifyCMS(x *signature, leaf *x509.Certificate) error {
	if x.Style != "CMS" {
		return fmt.Errorf("xar: x-signature style %q: %w", x.Style, ErrFormat)
	}
	xchain, err := parseChain(x.KeyInfo)
	if err != nil {
		return err
	}
	if !xchain[0].Equal(leaf) {
		return fmt.Errorf("xar: CMS and RSA signatures name different certificates: %w", ErrSignature)
	}
	room, err := a.heap(x.Offset, x.Size)
	if err != nil {
		return fmt.Errorf("xar: CMS signature: %w", err)
	}
	var outer asn1.RawValue
	pad, err := asn1.Unmarshal(room, &outer)
	if err != nil || len(bytes.Trim(pad, "\x00")) > 0 {
		return fmt.Errorf("xar: CMS signature is not one DER value and zero padding: %w", ErrFormat)
	}
	p7, err := pkcs7.Parse(outer.FullBytes)
	if err != nil {
		return fmt.Errorf("xar: CMS signature: %w: %w", ErrFormat, err)
	}
	if len(p7.Signers) != 1 || len(p7.Content) != 0 {
		return fmt.Errorf("xar: CMS signature must be detached with one signer: %w", ErrFormat)
	}
	if signer := p7.GetOnlySigner(); signer == nil || !signer.Equal(leaf) {
		return fmt.Errorf("xar: CMS signer is not the leaf certificate: %w", ErrSignature)
	}
	p7.Content = a.tocSum
	if err := p7.Verify(); err != nil {
		return fmt.Errorf("xar: CMS: %w: %w", ErrSignature, err)
	}
	return nil
}

// Verify checks a whole archive: the TOC checksum, every member's checksums,
// then the signature. It returns the embedded chain (leaf first) of a signed
// archive, or ErrNotSigned for an intact unsigned one.
func Verify(r io.ReaderAt, size int64) ([]*x509.Certificate, error) {
	a, err := Open(r, size)
	if err != nil {
		return nil, err
	}
	for _, n := range a.Names() {
		if _, err := a.ReadFile(n); err != nil {
			return nil, err
		}
	}
	return a.Signature()
}
