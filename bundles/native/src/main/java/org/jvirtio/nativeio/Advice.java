package org.jvirtio.nativeio;

/**
 * What {@link MappedMemory#madvise} tells the kernel about a range: mostly to give pages back (balloon
 * inflation, discard) or to ask for them early. Values are Linux's {@code MADV_*}.
 */
public enum Advice {
    /** No special treatment. */
    NORMAL(0),
    /** Expect random access: read ahead less. */
    RANDOM(1),
    /** Expect sequential access: read ahead more. */
    SEQUENTIAL(2),
    /** Expect access soon: start reading in. */
    WILLNEED(3),
    /**
     * Drop this mapping's pages. On a shared mapping (memfd) the contents stay in the file and come
     * back on the next access; on private anonymous memory they come back zeroed.
     */
    DONTNEED(4),
    /** Free the pages lazily (private anonymous memory only). */
    FREE(8),
    /** Punch a hole in the backing file: the memory is freed and reads back as zeros, in every mapping. */
    REMOVE(9),
    /** Do not map this range into a forked child. */
    DONTFORK(10),
    /** Undo {@link #DONTFORK}. */
    DOFORK(11),
    /** Back the range with transparent huge pages where possible. */
    HUGEPAGE(14),
    /** Never back the range with transparent huge pages. */
    NOHUGEPAGE(15),
    /** Leave the range out of core dumps (guest memory is large and private). */
    DONTDUMP(16),
    /** Undo {@link #DONTDUMP}. */
    DODUMP(17);

    final int linuxValue;

    Advice(int linuxValue) {
        this.linuxValue = linuxValue;
    }
}
