#!/usr/bin/env python3
"""Writes the seed corpora in fuzz/seeds/<target>/ from the examples of
docs/protocol.md (§1-§4, §7) and the project's test data.

The seeds are committed; run this only to regenerate them after changing
the input layout of a target (see fuzz/checks/*.rs). It rewrites only the
files it names: crash-* regression inputs and files added by hand stay.
"""
import os
import struct

ROOT = os.path.dirname(os.path.abspath(__file__))
SEEDS = os.path.join(ROOT, "seeds")
HOST_DATA = os.path.join(ROOT, "..", "host", "tests", "data", "inventory")

RID = "AAABZpJrTyioDC_HsOmHae8EZp_uBSJr6cnGOLKp_XJCl-Q"
DATE = "Wed, 10 Feb 2017 12:00:00 GMT"
DG_HASH = "beb0fe31a1c7ca8c6c04d574ea906e3f97b31fdca7571defb5b44dca89b5af60"
HELLO_HASH = "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
EMPTY_HASH = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def write(target, name, data):
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def crlf(*lines):
    return "".join(l + "\r\n" for l in lines) + "\r\n"


# --- head: raw response heads (docs/protocol.md §2, DG-GJO examples) ---------
ARCHIVE_200 = crlf(
    "HTTP/1.1 200 OK",
    "x-amzn-RequestId: " + RID,
    "x-amz-sha256-tree-hash: " + DG_HASH,
    "Date: " + DATE,
    "Content-Type: application/octet-stream",
    "Content-Length: 1048576",
)
PARTIAL_206 = crlf(
    "HTTP/1.1 206 Partial Content",
    "x-amzn-RequestId: " + RID,
    "Date: " + DATE,
    "Content-Range: bytes 0-1023/8388608",
    "Content-Type: application/octet-stream",
    "Content-Length: 1024",
)
INVENTORY_200 = crlf(
    "HTTP/1.1 200 OK",
    "x-amzn-RequestId: " + RID,
    "Date: " + DATE,
    "Content-Type: application/json",
    "Content-Length: 906",
)
ERROR_404 = crlf(
    "HTTP/1.1 404 Not Found",
    "x-amzn-RequestId: " + RID,
    "Content-Type: application/json",
    "Content-Length: 125",
    "Date: " + DATE,
)
heads = {
    "dg-gjo-archive-200": ARCHIVE_200 + "[Archive data.]",
    "dg-gjo-partial-206": PARTIAL_206,
    "dg-gjo-inventory-200": INVENTORY_200 + '{"VaultARN":',
    "dg-err-404": ERROR_404,
    "continue-100-then-206": "HTTP/1.1 100 Continue\r\n\r\n" + PARTIAL_206,
    "http2-no-reason": crlf("HTTP/2 206", "content-range: bytes 1048576-2097151/3250586",
                            "content-length: 1048576", "accept-ranges: bytes"),
    "archive-description": crlf("HTTP/1.1 200 OK", "Content-Length: 3",
                                "x-amz-archive-description: my archive, 2012",
                                "Accept-Ranges: bytes"),
    "moto-200-close": crlf("HTTP/1.1 200 OK", "Server: Werkzeug/3.0.1 Python/3.11.7",
                           "Date: " + DATE, "Content-Type: application/octet-stream",
                           "Content-Length: 11", "Connection: close") + "hello world",
    "bad-bare-lf": "HTTP/1.1 200 OK\nContent-Length: 1\n\nx",
    "bad-obs-fold": crlf("HTTP/1.1 200 OK", "Content-Length: 1", " folded"),
    "bad-duplicate-content-length": crlf("HTTP/1.1 200 OK", "Content-Length: 1", "Content-Length: 2"),
    "list-content-length": crlf("HTTP/1.1 200 OK", "Content-Length: 42, 42"),
    "bad-te-and-cl": crlf("HTTP/1.1 200 OK", "Transfer-Encoding: chunked", "Content-Length: 1"),
    "bad-space-before-colon": crlf("HTTP/1.1 200 OK", "Content-Length : 1"),
    "bad-tree-hash": crlf("HTTP/1.1 200 OK", "x-amz-sha256-tree-hash: beb0fe31"),
}
for name, raw in heads.items():
    write("head", name, raw)

# --- range: Range, Content-Range, RetrievalByteRange -------------------------
# (docs/protocol.md §1, §2.2, §4.3)
ranges = {
    "range-first-mib": "bytes=0-1048575",
    "range-open-net-resume": "bytes=1048576-",
    "range-boto2510-past-end": "bytes=8388608-12582911",
    "range-suffix-refused": "bytes=-500",
    "range-multi-refused": "bytes=0-1,5-6",
    "range-boto3-2077-malformed": "bytes 0-4194303/235812776",
    "range-boto3-300-malformed": "Range: bytes=0-1048575",
    "range-u64-max": "bytes=0-18446744073709551615",
    "range-overflow": "bytes=18446744073709551616-",
    "range-leading-zeros": "bytes=0001048576-0002097151",
    "content-range-dg": "bytes 0-1048575/8388608",
    "content-range-dg-example": "bytes 0-1023/8388608",
    "content-range-tail": "bytes 2097152-3250585/3250586",
    "content-range-unsatisfied": "bytes */8388608",
    "content-range-unknown-total": "bytes 0-1023/*",
    "content-range-last-eq-total": "bytes 0-8388608/8388608",
    "retrieval-dg-ij": "2097152-4194303",
    "retrieval-6.5mib-tail": "4194304-6815743",
    "retrieval-reversed": "4194303-2097152",
}
for name, text in ranges.items():
    write("range", name, text)

# --- service_error: Glacier JSON error bodies (docs/protocol.md §3, DG-ERR) --
errors = {
    "dg-err-resource-not-found": '{"code": "ResourceNotFoundException",\n "message": "The job ID was not found: HkF9p6o7yjhFx-K3CGl6fuSm6VzW9T7esGQfco8nUXVYwS0jlb5gq1JZ55yHgt5vP54ZShjoQzQVVh7vEXAMPLEjobID",\n "type": "Client"}',
    "dg-err-vault-not-found": '{"code":"ResourceNotFoundException","message":"Vault not found for ARN: arn:aws:glacier:us-west-2:012345678901:vaults/examplevault","type":"Client"}',
    "dg-err-example2-typo": '{"code": "InvalidParameterValueException", "message": "The job status code is not valid: finished", "type: "Client"}',
    "boto2510-range-past-end": '{"code":"InvalidParameterValueException","message":"The start of the range is larger than size of retrieved data: bytes=8388608-12582911","type":"Client"}',
    "job-not-ready": '{"code":"InvalidParameterValueException","message":"The job is not currently available for download: HkF9p6o7","type":"Client"}',
    "throttling-type-namespace": '{"__type":"com.amazon.coral.service#ThrottlingException:http://internal.amazon.com/coral/","Message":"Rate exceeded"}',
    "no-longer-supported": '{"code":"NoLongerSupportedException","errorMessage":"S3 Glacier is no longer accepting new customers","type":"Client"}',
    "service-unavailable": '{"code":"ServiceUnavailableException","message":"Service is unavailable. Try again later.","type":"Server"}',
    "escapes-and-nesting": '{"extra":{"a":[1,-2.5e3,true,false,null,{"b":[]}]},"code":"Throttling","message":"caf\\u00e9 \\ud83d\\ude00 \\"q\\" \\\\ \\/ \\n","type":"Unknown"}',
    "moto-plain-404": "404 Not Found",
    "html-500": "<html><body><h1>Internal Server Error</h1></body></html>",
    "empty-object": "{}",
    "long-message": '{"code":"BadRequest","message":"' + "x" * 300 + '"}',
}
for name, text in errors.items():
    write("service_error", name, text)

# --- digest: hex digests (docs/protocol.md §7 vectors) -----------------------
digests = {
    "empty": EMPTY_HASH,
    "a-1mib": "9bc1b2a288b26af7257a36277ae3816a7d4f16e89c1e7e77d0a5c48bad62b360",
    "a-2mib": "560c2c9333c719cb00cfdffee3ba293db17f58743cdd1f7e4055373ae6300afa",
    "go1-5.5mib-zeros": "154e26c78fd74d0c2c9b3cc4644191619dc4f2cd539ae2a74d5fd07957a3ee6a",
    "dg-gjo-example": DG_HASH,
    "uppercase": DG_HASH.upper(),
    "mixed-case": "BeB0fe31a1c7ca8c6c04d574ea906e3f97b31fdca7571defb5b44dca89b5af60",
    "short-63": DG_HASH[:63],
    "long-65": DG_HASH + "0",
    "0x-prefix": "0x" + DG_HASH[:62],
    "non-hex-g": "g" + DG_HASH[1:],
    "boto3059-bytes-repr": "b'" + DG_HASH[:61] + "'",
}
for name, text in digests.items():
    write("digest", name, text)


# --- tree_hash: pattern u8, seed u64, leaves u8, adjustment i32, ops -------
def tree_seed(pattern, length, seed=0, ops=b""):
    leaves, adj = divmod(length, 1 << 20)
    if leaves > 8:
        raise ValueError(length)
    leaves_byte = leaves if leaves < 4 else 128 + leaves
    return struct.pack("<BQBi", pattern, seed, leaves_byte, adj) + ops


vectors = {
    "empty": (1, 0),
    "a-1": (1, 1),
    "a-1024": (1, 1024),
    "a-1mib-minus-1": (1, 1048575),
    "a-1mib": (1, 1048576),
    "a-1mib-plus-1": (1, 1048577),
    "a-2mib": (1, 2097152),
    "a-3mib": (1, 3145728),
    "a-4mib": (1, 4194304),
    "a-4mib-plus-20": (1, 4194324),
    "a-5mib": (1, 5242880),
    "a-7mib-plus-1": (1, 7340033),
    "mod251-6.5mib": (2, 6815744),
    "zeros-5.5mib": (3, 5767168),
}
for name, (pattern, length) in vectors.items():
    write("tree_hash", "spec7-" + name, tree_seed(pattern, length))
for i, length in enumerate([3, 65536, 1048576 + 4096, 2 * 1048576 - 7, 3 * 1048576 + 1, 4 * 1048576 - 1]):
    write("tree_hash", "random-%d" % length,
          tree_seed(0, length, seed=0x5eed0000 + i, ops=bytes(range(i, i + 16))))


# --- verifier: mode byte, then the mode's layout ---------------------------
def arbitrary(raw, job=0, archive=None, output_len=None, rng=None, tree_hash=None,
              buf_len=512, seed=1, max_read=7):
    """Odd mode: an expectation (see verifier_arbitrary) and raw response bytes."""
    out = bytes([1, job])
    if job == 2:
        size, first, last = archive
        out += struct.pack("<III", size, first, last - first)
    out += bytes([1]) + struct.pack("<I", output_len) if output_len is not None else bytes([0])
    if rng is None:
        out += bytes([0])
    elif rng[0] == "closed":
        out += bytes([1]) + struct.pack("<II", rng[1], rng[2])
    else:
        out += bytes([2]) + struct.pack("<I", rng[1])
    out += bytes([1]) + bytes.fromhex(tree_hash) if tree_hash else bytes([0])
    out += struct.pack("<HQB", buf_len - 1, seed, max_read - 1)
    if isinstance(raw, str):
        raw = raw.encode()
    return out + raw


body1024 = bytes(i % 251 for i in range(1024))
inventory_body = open(os.path.join(HOST_DATA, "spec-example.json"), "rb").read()
inv_head = crlf("HTTP/1.1 200 OK", "x-amzn-RequestId: " + RID, "Date: " + DATE,
                "Content-Type: application/json", "Content-Length: %d" % len(inventory_body))
verifier = {
    "dg-gjo-partial-206": arbitrary(PARTIAL_206.encode() + body1024, output_len=8388608,
                                    rng=("closed", 0, 1023)),
    "dg-gjo-inventory-200": arbitrary(inv_head.encode() + inventory_body, job=1,
                                      output_len=len(inventory_body)),
    "hello-world-header-hash": arbitrary(
        crlf("HTTP/1.1 200 OK", "x-amz-sha256-tree-hash: " + HELLO_HASH, "Content-Length: 11")
        + "hello world", tree_hash=HELLO_HASH),
    "dg-gjo-archive-hash-mismatch": arbitrary(
        ARCHIVE_200.replace("1048576", "15") + "[Archive data.]"),
    "moto-range-ignored": arbitrary(heads["moto-200-close"], output_len=11, rng=("closed", 0, 4)),
    "archive-aligned-header-missing": arbitrary(
        crlf("HTTP/1.1 206 Partial Content", "Content-Range: bytes 0-10/11", "Content-Length: 11")
        + "hello world", job=2, archive=(11, 0, 10), rng=("closed", 0, 10)),
    "body-too-long": arbitrary(crlf("HTTP/1.1 200 OK", "Content-Length: 5") + "hello world"),
    "body-too-short": arbitrary(crlf("HTTP/1.1 200 OK", "Content-Length: 50") + "hello world"),
    "head-incomplete": arbitrary("HTTP/1.1 200 OK\r\nContent-Len"),
    "head-too-large-for-buffer": arbitrary(PARTIAL_206, buf_len=64),
    "status-404": arbitrary(ERROR_404 + errors["dg-err-vault-not-found"][:125]),
}
for name, data in verifier.items():
    write("verifier", name, data)
# Even mode: the bytes describe a correct response (see build_case).
for i in range(12):
    state = (0x243F6A8885A308D3 ^ (i * 0x9E3779B97F4A7C15)) & (2**64 - 1)
    out = bytearray([2 * i])
    while len(out) < 96:
        state ^= (state << 13) & (2**64 - 1)
        state ^= state >> 7
        state ^= (state << 17) & (2**64 - 1)
        out += state.to_bytes(8, "little")
    write("verifier", "correct-%02d" % i, bytes(out))

# --- assembly: fixed part, then 6 bytes per piece (see checks::assembly) ----
def assembly_seed(length, pieces, pattern=0, seed=1, job=0, known=1, delta=0, plan=0,
                  expected=(), after=False):
    """`pieces`: (control, extra, number) per piece; `expected`: (source,
    wrong, bit) per hash, source an index into SOURCES (0 DescribeJob,
    1 CommandLine, 2 Inventory, 3 FirstResponseHeader, 4 Expected, 5 Header)."""
    mibs, adj = divmod(length, 1 << 20)
    if adj > (1 << 19) and mibs < 6:
        mibs, adj = mibs + 1, adj - (1 << 20)
    if mibs > 6:
        raise ValueError(length)
    mibs_byte = mibs if mibs < 4 else 128 + mibs
    out = struct.pack("<BQBiBBHBBB", pattern, seed, mibs_byte, adj, job, known, delta, plan,
                      len(expected), 1 if after else 0)
    hashes = list(expected) + [(0, 0, 0)] * (5 - len(expected))
    for source, wrong, bit in hashes:
        out += struct.pack("<BBB", source, 2 if wrong else 0, bit)
    for ctrl, extra, number in pieces:
        out += struct.pack("<BBI", ctrl, extra, number)
    return out


MIB = 1 << 20
# Control bits: 1 record, 2 header sent (record: state in bits 1-2), 8 a 200
# for a whole output; mixed sizes: (1 << 4) 1 MiB, (3 << 4) 2 MiB,
# (5 << 4) 4 MiB, (7 << 4) the rest, (0 << 4) any length (the number).
HDR, REC, OK200 = 2, 1, 8
REC_MATCHED, REC_NOT_SENT, REC_MISSING, REC_NOT_COMPARED = 1, 3, 5, 7
S1, S2, S4, REST = 1 << 4, 3 << 4, 5 << 4, 7 << 4
assembly = {
    "parts-2mib-headers-describe-job": assembly_seed(
        5 * MIB + 12345, [(HDR, 0, 0)] * 3, plan=1, expected=[(0, False, 0)]),
    "parts-1mib-records-and-responses": assembly_seed(
        3 * MIB + 100, [(REC_MATCHED, 0, 0), (REC_NOT_SENT, 0, 0), (HDR, 0, 0), (HDR, 0, 0)],
        pattern=1, seed=0x5eed, plan=0),
    "missing-header-no-expected": assembly_seed(2 * MIB + 5, [(0, 0, 0)] * 3, plan=0),
    "missing-header-command-line": assembly_seed(
        2 * MIB + 5, [(0, 0, 0), (HDR, 0, 0), (0, 0, 0)], plan=0, expected=[(1, False, 0)]),
    "wrong-inventory-among-right": assembly_seed(
        4 * MIB, [(HDR, 0, 0), (REC_MATCHED, 0, 0)], plan=1, after=True,
        expected=[(0, False, 0), (2, True, 77)]),
    "too-many-expected": assembly_seed(
        MIB + 1, [(HDR, 0, 0), (HDR, 0, 0)], plan=0,
        expected=[(0, False, 0), (1, False, 0), (2, False, 0), (3, False, 0), (4, False, 0)]),
    "mixed-misaligned-2mib": assembly_seed(
        4 * MIB, [(S1 | HDR, 0, 0), (S2 | REC_MATCHED, 0, 0), (S1, 0, 0)], plan=3),
    "mixed-legal-2-1-1-rest": assembly_seed(
        6 * MIB + 7, [(S2 | HDR, 0, 0), (S1 | REC_MATCHED, 0, 0), (S1 | HDR, 2, 0),
                      (REST | REC_MATCHED, 0, 0)], plan=3, expected=[(2, False, 0)]),
    "mixed-any-length-then-more": assembly_seed(
        3 * MIB, [(0 | HDR, 0, 1234567), (S1 | HDR, 0, 0)], plan=3),
    "last-piece-misaligned": assembly_seed(
        3 * MIB + MIB // 2, [(S1 | HDR, 0, 0), (REST | HDR, 0, 0)], plan=3),
    "resumed-first-response-header": assembly_seed(
        5 * MIB + 3, [(REST | HDR, 3, 2)], plan=3, expected=[(3, False, 0)]),
    "resumed-no-header-not-compared-record": assembly_seed(
        3 * MIB, [(S2, 3, 0), (REST | REC_NOT_COMPARED, 0, 99)], plan=3, job=1,
        expected=[(3, False, 0)]),
    "corrupted-record-caught": assembly_seed(
        4 * MIB + 1, [(REC_MATCHED, 0, 0), (REC_MATCHED, 1, 4242), (HDR, 0, 0)], plan=1,
        expected=[(0, False, 0)]),
    "corrupted-record-no-expected": assembly_seed(
        2 * MIB + 1, [(REC_NOT_SENT, 1, 7), (REC_NOT_SENT, 0, 0)], plan=1, job=1),
    "empty-output": assembly_seed(0, [], expected=[(1, False, 0)]),
    "declared-short": assembly_seed(2 * MIB, [(HDR, 0, 0)] * 2, known=3, delta=4, plan=0),
    "declared-long": assembly_seed(2 * MIB, [(HDR, 0, 0)] * 2, known=3, delta=5, plan=0),
    "inventory-one-200": assembly_seed(1000, [(OK200, 0, 0)], job=2, plan=2),
    "spec7-6.5mib-mod251-4mib-parts": assembly_seed(
        6815744, [(HDR, 0, 0), (REC_MATCHED, 0, 0)], pattern=2, plan=2,
        expected=[(0, False, 0)]),
}
for name, data in assembly.items():
    write("assembly", name, data)

# --- inventories (docs/protocol.md §5.3) -------------------------------------
for name in sorted(os.listdir(HOST_DATA)):
    data = open(os.path.join(HOST_DATA, name), "rb").read()
    target = "inventory_json" if name.endswith(".json") else "inventory_csv"
    write(target, "testdata-" + name.rsplit(".", 1)[0], data)
write("inventory_json", "spec-5.3-example",
      '{"VaultARN": "arn:aws:glacier:us-west-2:012345678901:vaults/examplevault",\n'
      ' "InventoryDate": "2011-12-12T14:19:01Z",\n'
      ' "ArchiveList": [{"ArchiveId": "DMTmICA2n5Tdqq5BV2z7og-A20xnpAPKt3UXwWxdWsn_D6auTUrW6kwy5Qyj9xd1MCE1mBYvMQ63LWaT8yTMzMaCxB_9VBWrW4Jw4zsvg5kaCMv_VkLGF_9ZtgHBsRR4d3W7EGgNkEXGe-fOlUlYlsTUaw", "ArchiveDescription": "my archive1",\n'
      '                  "CreationDate": "2012-05-15T17:19:46.700Z", "Size": 2140123,\n'
      '                  "SHA256TreeHash": "6b9d4cf8697bd3af6aa1b590a0b27b337da5b18988dbcc619a3e608a554a1e62"}]}')
write("inventory_json", "null-description-bom",
      '\ufeff{"ArchiveList":[{"ArchiveId":"a","ArchiveDescription":null,"CreationDate":"2012-05-15T17:19:46Z","Size":0,"SHA256TreeHash":"%s"}]}' % EMPTY_HASH.upper())
write("inventory_json", "bad-size-float",
      '{"ArchiveList":[{"ArchiveId":"a","ArchiveDescription":"","CreationDate":"x","Size":1.5,"SHA256TreeHash":"%s"}]}' % EMPTY_HASH)
HDR = "ArchiveId,ArchiveDescription,CreationDate,Size,SHA256TreeHash\n"
write("inventory_csv", "spec-5.3-quoting",
      HDR + 'a1,"my archive description,1\\"2",2012-05-15T17:19:46Z,1,%s\n' % EMPTY_HASH
      + 'a2,"my archive description,1\\\\"2",2012-05-15T17:19:46Z,1,%s\n' % EMPTY_HASH
      + 'a3,"ends in a backslash, \\",2012-05-15T17:19:46Z,1,%s\n' % EMPTY_HASH
      + 'a4,"say \\"hi\\", then",2012-05-15T17:19:46Z,1,%s\n' % EMPTY_HASH)
write("inventory_csv", "rfc4180-doubled-quote-refused",
      HDR + 'a1,"1""2",2012-05-15T17:19:46Z,1,%s\n' % EMPTY_HASH)
write("inventory_csv", "unterminated-quote", HDR + 'a1,"abc,2012,1,%s\n' % EMPTY_HASH)
write("inventory_csv", "header-only-bom", "\ufeff" + HDR)

# --- credentials: AWS credentials / config files ---------------------------
creds = {
    "credentials-default": "[default]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
    "credentials-session-crlf-bom": "\ufeff[prod]\r\naws_access_key_id=AKID\r\naws_secret_access_key=SECRET\r\naws_session_token = TOKEN ; inline comment\r\n",
    "config-profiles": "# AWS config\n[default]\nregion = us-west-2\n\n[profile dev]\nregion: eu-central-1 # inline\nendpoint_url = http://127.0.0.1:9000\ns3 =\n    max_concurrent_requests = 20\n    addressing_style = path\n; done\n",
    "config-role-arn": "[profile ci]\nrole_arn = arn:aws:iam::123456789012:role/ci\nsource_profile = default\n",
    "config-sso": "[profile sso]\nsso_start_url = https://example.awsapps.com/start\nsso_region = us-east-1\n",
    "repeated-sections": "[default]\nregion = us-east-1\n[default]\nREGION = eu-west-1\n",
    "bad-unclosed-section": "[default\nregion = x\n",
    "bad-entry-outside-section": "region = x\n",
    "bad-empty-key": "[default]\n= x\n",
    "bad-trailing": "[default] x\n",
}
for name, text in creds.items():
    write("credentials", name, text)
