package org.jvirtio.api.device;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class AdaptivePollTest {
    private static final long MAX = 50_000;

    @Test
    void startsWithoutPolling() {
        assertThat(new AdaptivePoll(MAX).windowNanos()).isZero();
    }

    @Test
    void requestsThatComeSoonAfterSleepingGrowTheWindowToTheMaximum() {
        AdaptivePoll poll = new AdaptivePoll(MAX);
        poll.slept(6_000);
        assertThat(poll.windowNanos()).isEqualTo(AdaptivePoll.FIRST_WINDOW_NANOS);
        long previous = poll.windowNanos();
        for (int i = 0; i < 10; i++) {
            poll.slept(6_000);
            assertThat(poll.windowNanos()).isBetween(previous, MAX);
            previous = poll.windowNanos();
        }
        assertThat(poll.windowNanos()).isEqualTo(MAX);
    }

    @Test
    void requestsFartherApartThanTheMaximumShrinkTheWindowToNothing() {
        AdaptivePoll poll = new AdaptivePoll(MAX);
        for (int i = 0; i < 10; i++) {
            poll.slept(1_000);
        }
        assertThat(poll.windowNanos()).isEqualTo(MAX);
        poll.slept(200_000);
        assertThat(poll.windowNanos()).isEqualTo(MAX / 2);
        for (int i = 0; i < 10; i++) {
            poll.slept(200_000);
        }
        assertThat(poll.windowNanos()).isZero();
        poll.slept(MAX + 1);
        assertThat(poll.windowNanos()).as("stays off while requests stay far apart").isZero();
    }
}
