package org.jvirtio.nativeio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(20)
class EpollTest {

    private static final int COUNT = 64;
    private static final int TAG_BASE = 1000;

    private final List<EventFd> events = new ArrayList<>();
    private Epoll epoll;

    @BeforeEach
    void watchSixtyFourEventfds() throws Exception {
        epoll = Epoll.create();
        for (int i = 0; i < COUNT; i++) {
            EventFd event = EventFd.create(true);
            events.add(event);
            epoll.add(event.fd(), Epoll.IN, TAG_BASE + i);
        }
    }

    @AfterEach
    void closeAll() {
        epoll.close();
        events.forEach(EventFd::close);
    }

    @Test
    void waitReturnsExactlyTheTagsOfTheSignalledOnes() throws Exception {
        int[] signalled = {3, 17, 42, 63};
        for (int i : signalled) {
            events.get(i).signal();
        }
        int[] tags = new int[COUNT];
        int n = epoll.wait(tags, 1000);
        assertThat(Arrays.copyOf(tags, n)).containsExactlyInAnyOrder(1003, 1017, 1042, 1063);

        // Level-triggered: still ready until read.
        assertThat(epoll.wait(tags, 0)).isEqualTo(4);
        for (int i : signalled) {
            events.get(i).read();
        }
        assertThat(epoll.wait(tags, 0)).isZero();
    }

    @Test
    void aWaitReturnsAtMostTheRoomItWasGiven() throws Exception {
        for (int i = 0; i < 10; i++) {
            events.get(i).signal();
        }
        int[] tags = new int[3];
        assertThat(epoll.wait(tags, 1000)).isEqualTo(3);
        assertThat(Arrays.stream(tags).boxed()).allSatisfy(tag -> assertThat(tag).isBetween(TAG_BASE, TAG_BASE + 9));
    }

    @Test
    void tagsMayBeAnyInt() throws Exception {
        epoll.modify(events.get(0).fd(), Epoll.IN, -1);
        epoll.modify(events.get(1).fd(), Epoll.IN, Integer.MIN_VALUE);
        events.get(0).signal();
        events.get(1).signal();
        int[] tags = new int[COUNT];
        int n = epoll.wait(tags, 1000);
        assertThat(Arrays.copyOf(tags, n)).containsExactlyInAnyOrder(-1, Integer.MIN_VALUE);
    }

    @Test
    void aRemovedDescriptorIsNoLongerReported() throws Exception {
        epoll.remove(events.get(5).fd());
        events.get(5).signal();
        events.get(6).signal();
        int[] tags = new int[COUNT];
        int n = epoll.wait(tags, 1000);
        assertThat(Arrays.copyOf(tags, n)).containsExactly(1006);
        assertThatThrownBy(() -> epoll.remove(events.get(5).fd()))
                .isInstanceOfSatisfying(NativeException.class, e -> assertThat(e.errnoName()).isEqualTo("ENOENT"));
    }

    @Test
    void modifyChangesTheInterest() throws Exception {
        epoll.modify(events.get(7).fd(), Epoll.OUT, 77);
        // An eventfd is writable while its counter is below the maximum.
        int[] tags = new int[COUNT];
        int n = epoll.wait(tags, 1000);
        assertThat(Arrays.copyOf(tags, n)).containsExactly(77);
    }

    @Test
    void aWaitTimesOutWithZero() throws Exception {
        long start = System.nanoTime();
        assertThat(epoll.wait(new int[4], 50)).isZero();
        assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(40));
    }

    @Test
    void wakeupFromAnotherThreadEndsABlockingWait() throws Exception {
        int[] tags = new int[COUNT];
        BlockingCall<Integer> waiter = BlockingCall.start("wait", () -> epoll.wait(tags, -1)).awaitBlockedIn("epoll_wait");
        assertThat(waiter.isDone()).isFalse();
        epoll.wakeup();
        assertThat(waiter.get()).isZero();
        // The wakeup was consumed: the next wait times out.
        assertThat(epoll.wait(tags, 0)).isZero();
    }

    @Test
    void aWakeupBeforeTheWaitIsNotLost() throws Exception {
        epoll.wakeup();
        assertThat(epoll.wait(new int[4], -1)).isZero();
    }

    @Test
    void aWakeupDoesNotHideReadyDescriptors() throws Exception {
        epoll.wakeup();
        events.get(9).signal();
        int[] tags = new int[COUNT];
        int n = epoll.wait(tags, 1000);
        if (n == 0) { // the wakeup came first in its own batch; the event follows
            n = epoll.wait(tags, 1000);
        }
        assertThat(Arrays.copyOf(tags, n)).containsExactly(1009);
    }

    @Test
    void onlyOneThreadMayWait() throws Exception {
        BlockingCall<Integer> waiter = BlockingCall.start("wait", () -> epoll.wait(new int[4], -1))
                .awaitBlockedIn("epoll_wait");
        assertThatThrownBy(() -> epoll.wait(new int[4], 0)).isInstanceOf(IllegalStateException.class);
        epoll.wakeup();
        assertThat(waiter.get()).isZero();
    }

    @Test
    void closeFromAnotherThreadEndsABlockingWait() throws Exception {
        BlockingCall<Integer> waiter = BlockingCall.start("wait", () -> epoll.wait(new int[4], -1))
                .awaitBlockedIn("epoll_wait");
        epoll.close();
        assertThat(waiter.get()).isZero();
        assertThatThrownBy(() -> epoll.wait(new int[4], 0)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> epoll.add(events.get(0).fd(), Epoll.IN, 1)).isInstanceOf(IllegalStateException.class);
        epoll.wakeup(); // a no-op once closed
        epoll.close();
    }
}
