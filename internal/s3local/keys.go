package s3local

import (
	"errors"
	"io"
	"strings"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3afero"
)

// CheckKey reports whether key can be stored here as the file it names
// under the bucket's folder: at most [MaxKeyBytes] bytes, and made of
// segments that are each a plain file name. S3 itself takes any key of up
// to 1,024 bytes, "a/../b" included, as an opaque string; a file system
// would resolve such a key to another folder, another bucket's or one
// outside the buckets, so the stand-in refuses it (InvalidArgument)
// instead of writing it elsewhere.
func CheckKey(key string) error {
	if len(key) > MaxKeyBytes {
		return gofakes3.ErrorMessagef(gofakes3.ErrKeyTooLong, "key of %d bytes: S3 takes at most %d", len(key), MaxKeyBytes)
	}
	if key == "" {
		return gofakes3.ErrorInvalidArgument("key", key, "empty key")
	}
	if strings.ContainsRune(key, 0) {
		return gofakes3.ErrorInvalidArgument("key", key, "a key with a NUL byte can not be stored as a file")
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch seg {
		case "", ".", "..":
			return gofakes3.ErrorInvalidArgument("key", key,
				"key segment "+strconvQuote(seg)+": this stand-in stores keys as files, and takes only keys whose /-separated segments are plain names (no empty, . or .. segment)")
		}
	}
	return nil
}

// checkPrefix refuses a listing prefix that would climb out of the bucket.
func checkPrefix(prefix *gofakes3.Prefix) error {
	if prefix == nil || !prefix.HasPrefix {
		return nil
	}
	for seg := range strings.SplitSeq(prefix.Prefix, "/") {
		if seg == "." || seg == ".." {
			return gofakes3.ErrorInvalidArgument("prefix", prefix.Prefix, "prefix segment "+strconvQuote(seg)+" is not taken here")
		}
	}
	return nil
}

func strconvQuote(s string) string { return `"` + s + `"` }

// keyChecked is the afero backend with every key checked by [CheckKey]
// first, and a PutObject that fails part-way leaving no object behind
// (gofakes3 writes the object's file, then its metadata; a failure in
// between left a file that a retry then wrote again under another key).
type keyChecked struct {
	*s3afero.MultiBucketBackend
}

func (k *keyChecked) ListBucket(name string, prefix *gofakes3.Prefix, page gofakes3.ListBucketPage) (*gofakes3.ObjectList, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, err
	}
	return k.MultiBucketBackend.ListBucket(name, prefix, page)
}

func (k *keyChecked) HeadObject(bucket, key string) (*gofakes3.Object, error) {
	if err := CheckKey(key); err != nil {
		return nil, gofakes3.KeyNotFound(key)
	}
	return k.MultiBucketBackend.HeadObject(bucket, key)
}

func (k *keyChecked) GetObject(bucket, key string, rangeRequest *gofakes3.ObjectRangeRequest) (*gofakes3.Object, error) {
	if err := CheckKey(key); err != nil {
		return nil, gofakes3.KeyNotFound(key)
	}
	return k.MultiBucketBackend.GetObject(bucket, key, rangeRequest)
}

func (k *keyChecked) DeleteObject(bucket, key string) (gofakes3.ObjectDeleteResult, error) {
	if err := CheckKey(key); err != nil {
		return gofakes3.ObjectDeleteResult{}, err
	}
	return k.MultiBucketBackend.DeleteObject(bucket, key)
}

func (k *keyChecked) DeleteMulti(bucket string, keys ...string) (gofakes3.MultiDeleteResult, error) {
	for _, key := range keys {
		if err := CheckKey(key); err != nil {
			return gofakes3.MultiDeleteResult{}, err
		}
	}
	return k.MultiBucketBackend.DeleteMulti(bucket, keys...)
}

func (k *keyChecked) PutObject(bucket, key string, meta map[string]string, input io.Reader, size int64, conditions *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	if err := CheckKey(key); err != nil {
		return gofakes3.PutObjectResult{}, err
	}
	res, err := k.MultiBucketBackend.PutObject(bucket, key, meta, input, size, conditions)
	if err != nil && !refusedBeforeWrite(err) {
		// An I/O error, a body cut short or a bad digest after the file
		// was created: remove it, so that what the client was told failed
		// is not there.
		_, _ = k.MultiBucketBackend.DeleteObject(bucket, key)
	}
	return res, err
}

// refusedBeforeWrite reports whether PutObject failed before it touched
// the object's file (a missing bucket, a failed condition).
func refusedBeforeWrite(err error) bool {
	var s3err gofakes3.Error
	if !errors.As(err, &s3err) {
		return false
	}
	switch s3err.ErrorCode() {
	case gofakes3.ErrNoSuchBucket, gofakes3.ErrPreconditionFailed, gofakes3.ErrConditionalRequestConflict:
		return true
	}
	return false
}

func (k *keyChecked) CopyObject(srcBucket, srcKey, dstBucket, dstKey string, meta map[string]string) (gofakes3.CopyObjectResult, error) {
	if err := CheckKey(srcKey); err != nil {
		return gofakes3.CopyObjectResult{}, err
	}
	if err := CheckKey(dstKey); err != nil {
		return gofakes3.CopyObjectResult{}, err
	}
	// gofakes3.CopyObject reads and writes through k, so the checks and
	// the clean-up above apply.
	return gofakes3.CopyObject(k, srcBucket, srcKey, dstBucket, dstKey, meta)
}
