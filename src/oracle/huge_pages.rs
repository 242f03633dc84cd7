//! Big arrays the scan reads at random (the span filter, the value table) asked to be backed by
//! transparent huge pages, so their reads miss the TLB less. A hint to the kernel only: no I/O.
//!
//! At a million owners the span filter is 15 MB and the table over 100 MB: with 4 KB pages nearly
//! every read of either also misses the TLB and walks the page tables, prefetches included. With
//! 2 MB pages the TLB covers them. Where the kernel declines (or off Linux) nothing changes.

/// Arrays smaller than this stay on ordinary pages: they fit the TLB anyway.
const FROM_BYTES: usize = 4 << 20;

/// An empty vector with room for `capacity` elements, that room asked to be backed by huge pages
/// before anything is written to it (the kernel chooses the page size at the first write).
pub(super) fn vec_with_capacity<T>(capacity: usize) -> Vec<T> {
    let vec: Vec<T> = Vec::with_capacity(capacity);
    advise(vec.as_ptr().cast(), capacity * size_of::<T>());
    vec
}

/// `len` zeroed elements on huge pages where the kernel gives them (see [`vec_with_capacity`]).
pub(super) fn zeroed<T: Copy + Default>(len: usize) -> Vec<T> {
    let mut vec = vec_with_capacity(len);
    vec.resize(len, T::default());
    vec
}

#[cfg(target_os = "linux")]
fn advise(start: *const u8, bytes: usize) {
    if bytes < FROM_BYTES {
        return;
    }
    // The call takes whole pages: the 4 KB pages inside the allocation (a wrong guess of the
    // page size only makes the call fail, which changes nothing).
    const PAGE: usize = 4096;
    let first = (start as usize).next_multiple_of(PAGE);
    let end = (start as usize + bytes) / PAGE * PAGE;
    if end > first {
        // SAFETY: `first..end` lies inside one live allocation of ours; MADV_HUGEPAGE changes how
        // the kernel backs those pages, never what they hold, and the result is only a hint.
        unsafe {
            libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise(_: *const u8, _: usize) {}

#[cfg(test)]
mod tests {
    #[test]
    fn zeroed_vectors_are_zero_whatever_their_size() {
        for len in [0, 1, 1000, super::FROM_BYTES / 8 + 3] {
            let vec: Vec<u64> = super::zeroed(len);
            assert_eq!(vec.len(), len);
            assert!(vec.iter().all(|&x| x == 0));
        }
        let vec: Vec<u32> = super::vec_with_capacity(super::FROM_BYTES);
        assert!(vec.is_empty() && vec.capacity() >= super::FROM_BYTES);
    }
}
