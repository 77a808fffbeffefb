use glacier_verify_core::LEAF_SIZE;

use super::Layout;

#[test]
fn parts_cover_the_output_exactly() {
    let len = 5 * LEAF_SIZE + 7;
    let part_size = 2 * LEAF_SIZE;
    let layout = Layout {
        len,
        part_size,
        count: len.div_ceil(part_size),
    };
    let ranges: Vec<_> = (0..layout.count)
        .map(|i| layout.range(i).unwrap())
        .collect();
    assert_eq!(ranges.len(), 3);
    assert_eq!(ranges[0].first(), 0);
    assert_eq!(ranges[2].last(), len - 1);
    for w in ranges.windows(2) {
        assert_eq!(w[0].last() + 1, w[1].first());
        assert_eq!(w[0].len(), part_size);
    }
    assert!(layout.range(u64::MAX).is_err());
}
