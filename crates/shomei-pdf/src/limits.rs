//! Budgets that keep hostile input from exhausting memory or time.
//!
//! Each limit cites why its value is safe for real documents.

/// Longest `/Prev` chain followed. A PAdES B-LTA document re-timestamped every year for a
/// century has about 200 revisions; 1000 leaves a wide margin while bounding the work.
pub(crate) const MAX_REVISIONS: usize = 1000;

/// Deepest nesting of arrays/dictionaries and of page or field trees. ISO 32000-1 Annex C
/// (implementation limits) caps graphics-state nesting at 28; real object and tree nesting
/// stays far below 64.
pub(crate) const MAX_DEPTH: usize = 64;

/// Longest chain of references followed by `resolve` (a reference to a reference ...).
/// Real files never chain more than once or twice; 32 stops reference loops quickly.
pub(crate) const MAX_REF_HOPS: usize = 32;

/// Largest decoded stream (object streams, xref streams). pyHanko and qpdf build object
/// streams of at most a few hundred KiB; 64 MiB is generous and keeps memory bounded.
pub(crate) const MAX_DECODED_STREAM: usize = 64 << 20;

/// Largest raw stream read into memory by [`crate::PdfReader::get`]. Same reasoning as above;
/// large image streams are never needed on the signing path.
pub(crate) const MAX_RAW_STREAM: u64 = 64 << 20;

/// Most tokens in one object. ISO 32000-1 Annex C gave 8191 array elements as a historical
/// limit; 32 times that covers very large /Kids, /Annots or /Fields arrays.
pub(crate) const MAX_TOKENS_PER_OBJECT: usize = 1 << 18;

/// Largest textual size of one object (not counting stream data): 8 MiB.
pub(crate) const MAX_OBJECT_BYTES: u64 = 8 << 20;

/// Highest object number accepted: ISO 32000-1 Annex C.2, Table C.1 ("maximum number of
/// indirect objects in a PDF file": 8,388,607).
pub(crate) const MAX_OBJECT_NUMBER: u32 = 8_388_607;

/// Object numbers above this need a file at least this long (the xref table is indexed by
/// object number, so this bounds its memory at 16 bytes per object number for tiny files).
pub(crate) const SMALL_FILE_OBJECT_NUMBERS: u64 = 1 << 20;

/// How far from the end `startxref` is searched. ISO 32000-1 §7.5.5 puts it at the end of
/// the file; Acrobat tolerates about 1 KiB of trailing junk, we tolerate 4 KiB.
pub(crate) const TAIL_WINDOW: u64 = 4096;

/// Where the `%PDF-` header may start. ISO 32000-1 Annex H.3 (note 13): Acrobat accepts the
/// header anywhere in the first 1024 bytes.
pub(crate) const HEADER_WINDOW: u64 = 1024;

/// Most field or page-tree nodes visited in one walk. Forms with tens of thousands of
/// fields exist; 200,000 still bounds the time spent on a hostile tree.
pub(crate) const MAX_TREE_NODES: usize = 200_000;

/// Largest `/Contents` reservation accepted: 16 MiB of DER (a CAdES B-LT blob with full
/// chains and revocation data is a few hundred KiB).
pub(crate) const MAX_CONTENTS_CAPACITY: usize = 16 << 20;

/// Total bytes parsed or decompressed by one reader (objects, object streams, xref streams).
/// Signing touches a few KiB to a few MiB (a 1M-object xref stream decodes to ~7 MiB);
/// 64 MiB (about two seconds of parsing at worst) stops hostile files
/// whose many references point at the same huge object or at zip bombs from keeping us busy
/// for minutes. Adjustable with `PdfReader::set_work_budget`.
pub(crate) const MAX_TOTAL_WORK: u64 = 64 << 20;
