//! Facts of the Glacier vault API that every layer needs, stated once
//! (docs/protocol.md §1, §4.1, §5.2).

/// The API version every request carries in `x-amz-glacier-version`
/// (<https://docs.aws.amazon.com/amazonglacier/latest/dev/api-common-request-headers.html>).
pub const GLACIER_VERSION: &str = "2012-06-01";

/// The SigV4 credential-scope service name of the vault API.
pub const SIGNING_SERVICE: &str = "glacier";

/// One megabyte as Glacier counts it: 1 048 576 bytes. The tree hash's leaf
/// size, the unit of megabyte-aligned ranges and of part sizes
/// (<https://docs.aws.amazon.com/amazonglacier/latest/dev/checksum-calculations.html>).
pub const MIB: u64 = 1 << 20;

/// Longest archive or job description: 1 024 printable ASCII characters
/// (<https://docs.aws.amazon.com/amazonglacier/latest/dev/api-initiate-job-post.html>).
pub const MAX_DESCRIPTION_LEN: usize = 1024;

/// Largest archive the service stores: 40 TiB (multipart uploads of at most
/// 10 000 parts of at most 4 GiB;
/// <https://docs.aws.amazon.com/amazonglacier/latest/dev/uploading-an-archive.html>).
/// A DescribeJob that states more is not describing a real archive.
pub const MAX_ARCHIVE_SIZE: u64 = 40 << 40;
