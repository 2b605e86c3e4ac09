package bench

import "math"

// List prices in us-east-1, for ratios (AWS-FACTS.md; the pricing pages
// of Lambda, Firehose, S3 and EventBridge at the time of writing). A GB
// here is 2^30 bytes, as Firehose's own examples count it (1,048,576 KB
// to the GB, 5 KB = 5,120 bytes).
const (
	PriceLambdaRequest   = 0.20 / 1e6   // per request
	PriceLambdaGBSecond  = 0.0000133334 // arm64, per GB-second (first 7.5 billion a month)
	PriceFirehoseGB      = 0.029        // Direct PUT ingestion, per GB in 5 KB increments (first 500 TB a month)
	PriceDynPartGB       = 0.020        // dynamic partitioning, per GB delivered
	PriceDynPartObject   = 0.005 / 1000 // dynamic partitioning, per S3 object delivered
	PriceS3Put           = 0.005 / 1000 // S3 Standard PUT request
	PricePipesRequest    = 0.40 / 1e6   // EventBridge Pipes, per request (64 KB chunk) after filtering
	LambdaFullCPUMB      = 1769         // memory at which a function has one vCPU
	GB                   = float64(1 << 30)
	FirehoseBufferBytes  = 128 << 20 // the template's BufferSizeMiB default
	AssumedFirehoseRTTMS = 50.0      // a PutRecordBatch round trip in the region, for Lambda's duration
)

// CostModel is one archiving setup to price per million items.
type CostModel struct {
	Name         string
	Bill         BillPoint // billed bytes measured for this item size
	Packed       bool
	CPUPerItemMS float64 // the function's CPU per item (whole process), ms
	ItemsPerCall int     // stream records per invocation
	MemoryMB     int     // function memory
	Concurrency  int     // MAX_CONCURRENCY
}

// CostRow is the price of a million archived items, by part.
type CostRow struct {
	Name                                 string
	LineBytes                            float64 // archive line per item
	LambdaRequests, LambdaDuration       float64
	FirehoseIngestion, DynPartGB, Object float64 // Object: dynamic partitioning objects and their S3 PUTs
	Pipes                                float64
	Total                                float64
	DurationMS                           float64 // per invocation
	BilledGB                             float64 // Firehose ingestion billed per million items
}

// Price returns what a million items cost with the function.
func (m CostModel) Price() CostRow {
	const items = 1e6
	r := CostRow{Name: m.Name, LineBytes: m.Bill.LinePerItem()}
	invocations := items / float64(m.ItemsPerCall)
	share := math.Min(1, float64(m.MemoryMB)/LambdaFullCPUMB)
	// Firehose calls per invocation, and rounds of them in a row.
	perItemBilled := m.Bill.Unpacked
	if m.Packed {
		perItemBilled = m.Bill.Packed
	}
	callsPerInvocation := float64(perItemBilled.Calls) / float64(m.Bill.Invocations)
	rounds := math.Ceil(callsPerInvocation / float64(m.Concurrency))
	r.DurationMS = m.CPUPerItemMS*float64(m.ItemsPerCall)/share + rounds*AssumedFirehoseRTTMS
	r.LambdaRequests = invocations * PriceLambdaRequest
	r.LambdaDuration = invocations * r.DurationMS / 1000 * float64(m.MemoryMB) / 1024 * PriceLambdaGBSecond
	r.BilledGB = m.Bill.PerMillion(perItemBilled.Billed) / GB
	r.FirehoseIngestion = r.BilledGB * PriceFirehoseGB
	delivered := m.Bill.PerMillion(m.Bill.LineBytes) / GB
	r.DynPartGB = delivered * PriceDynPartGB
	objects := math.Ceil(delivered * GB / FirehoseBufferBytes)
	r.Object = objects * (PriceDynPartObject + PriceS3Put)
	r.Total = r.LambdaRequests + r.LambdaDuration + r.FirehoseIngestion + r.DynPartGB + r.Object
	return r
}

// PipesPrice returns what a million items cost through an EventBridge
// Pipes route: the stream, the TTL filter, Firehose as the target, one
// Firehose record per stream record (the record as DynamoDB JSON, not an
// archive line), no function.
func PipesPrice(name string, b BillPoint) CostRow {
	r := CostRow{Name: name, LineBytes: float64(b.StreamBytes) / float64(b.Items)}
	r.Pipes = b.PerMillion(b.PipesEvents) * PricePipesRequest
	r.BilledGB = b.PerMillion(b.PipesBilled) / GB
	r.FirehoseIngestion = r.BilledGB * PriceFirehoseGB
	delivered := b.PerMillion(b.StreamBytes) / GB
	r.DynPartGB = delivered * PriceDynPartGB
	r.Object = math.Ceil(delivered*GB/FirehoseBufferBytes) * (PriceDynPartObject + PriceS3Put)
	r.Total = r.Pipes + r.FirehoseIngestion + r.DynPartGB + r.Object
	return r
}
