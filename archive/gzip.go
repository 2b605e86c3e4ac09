package archive

import (
	"bytes"
	"compress/gzip"
	"io"

	kgzip "github.com/klauspost/compress/gzip"
)

// itemGzipLevel is the level of klauspost/compress's gzip that item_gzip
// is written at. On the items that need it (JSON over 1,000 KiB),
// measured by BenchmarkGzipItem (BENCHMARKS.md): about 4x faster than the
// standard library at gzip.BestCompression, for 2 to 9% more bytes. At
// 128 MB a Lambda function has a small share of a vCPU, so seconds of
// compression per item were seconds of the batch's deadline.
const itemGzipLevel = 8

// appendGzipBase64 appends the base64 of b gzipped. It is used for items
// whose line would not fit in one Firehose record (see Line.ItemGzip).
// The standard library's gunzip (and any other) reads what it writes.
func appendGzipBase64(dst, b []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(b) / 4)
	zw, _ := kgzip.NewWriterLevel(&buf, itemGzipLevel) // the level is valid
	_, _ = zw.Write(b)                                 // writes to a bytes.Buffer cannot fail
	_ = zw.Close()
	return appendBase64(dst, buf.Bytes())
}

func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	b, err = io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	return b, zr.Close()
}
