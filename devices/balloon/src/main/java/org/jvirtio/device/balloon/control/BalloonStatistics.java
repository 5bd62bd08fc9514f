package org.jvirtio.device.balloon.control;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One sample of the guest's memory statistics: the value of each {@link StatTag} the guest reported
 * (a driver reports the tags it knows; the others are absent), and the sample's number, 1 for the
 * first since the driver started. Immutable.
 */
public final class BalloonStatistics {
    /** No sample yet. */
    public static final BalloonStatistics NONE = new BalloonStatistics(0, new long[StatTag.values().length],
            new boolean[StatTag.values().length]);

    private final long sequence;
    private final long[] values;
    private final boolean[] present;

    /** Copies {@code values} and {@code present}, indexed by tag. */
    public BalloonStatistics(long sequence, long[] values, boolean[] present) {
        if (values.length != StatTag.values().length || present.length != values.length) {
            throw new IllegalArgumentException("one value per tag");
        }
        this.sequence = sequence;
        this.values = values.clone();
        this.present = present.clone();
    }

    /** 1 for the first sample after the driver started, then counting up; 0 for {@link #NONE}. */
    public long sequence() {
        return sequence;
    }

    /** Whether the guest reported {@code tag} in this sample. */
    public boolean has(StatTag tag) {
        return present[tag.ordinal()];
    }

    /** The value reported for {@code tag}, or -1 if it was not reported. */
    public long get(StatTag tag) {
        return present[tag.ordinal()] ? values[tag.ordinal()] : -1;
    }

    /** The reported values by tag key ({@link StatTag#key()}), in tag order. */
    public Map<String, Long> asMap() {
        Map<String, Long> map = new LinkedHashMap<>();
        for (StatTag tag : StatTag.values()) {
            if (present[tag.ordinal()]) {
                map.put(tag.key(), values[tag.ordinal()]);
            }
        }
        return map;
    }

    @Override
    public String toString() {
        return "BalloonStatistics#" + sequence + asMap();
    }
}
