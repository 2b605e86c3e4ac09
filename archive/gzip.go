package archive

import (
	"bytes"
	"compress/gzip"
	"io"
)

// appendGzipBase64 appends the base64 of b gzipped. It is used for items
// whose line would not fit in one Firehose record (see Line.ItemGzip).
func appendGzipBase64(dst, b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // the level is valid
	_, _ = zw.Write(b)                                       // writes to a bytes.Buffer cannot fail
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
