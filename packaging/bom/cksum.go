package bom

// crcTable is the MSB-first table for the CRC-32 polynomial 0x04C11DB7 used by
// POSIX cksum. hash/crc32 only offers the bit-reversed form, whose values differ.
var crcTable = func() (t [256]uint32) {
	for i := range t {
		c := uint32(i) << 24
		for range 8 {
			if c&0x80000000 != 0 {
				c = c<<1 ^ 0x04C11DB7
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return t
}()

// Cksum returns the POSIX cksum CRC of data, the checksum Installer stores in a
// Bom and that `cksum` prints on a Mac.
func Cksum(data []byte) uint32 {
	var c uint32
	for _, b := range data {
		c = c<<8 ^ crcTable[byte(c>>24)^b]
	}
	for n := len(data); n > 0; n >>= 8 {
		c = c<<8 ^ crcTable[byte(c>>24)^byte(n)]
	}
	return ^c
}
