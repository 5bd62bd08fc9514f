package org.jvirtio.transport.vhostuser;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.queue.DriverQueue;

/**
 * A back end dies while requests are in flight, some of them already completed out of order, and a
 * new back end (a fresh device) takes over the same front end with its in-flight area: every request
 * is completed exactly once. The front end reconnects as QEMU does after a back-end crash (no
 * GET_VRING_BASE: split rings resume at the used index, packed rings get the stale base of their
 * last start), so the new back end must find its positions and the requests in the area.
 */
class InflightRecoveryTest {
    private static final int RING = 16;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "packed={0}, event_idx={1}, {2} chains before")
    @CsvSource({"false,false,21", "false,true,21", "true,false,21", "true,true,21", "false,true,13", "true,false,13",
            "true,true,13", "true,true,8"})
    void outOfOrderInFlightRequestsCompleteExactlyOnceAfterTheBackEndDies(boolean packed, boolean eventIdx,
            int before) throws Exception {
        Path socket = dir.resolve("vu.sock");
        EchoDevice first = new EchoDevice(1);
        VhostUserBackend dying = VhostUserBackend.start(first, socket);
        long features = VirtioFeature.of(VirtioFeature.VERSION_1)
                | (packed ? VirtioFeature.bit(VirtioFeature.RING_PACKED) : 0)
                | (eventIdx ? VirtioFeature.bit(VirtioFeature.RING_EVENT_IDX) : 0);
        try (VhostUserFrontend fe = VhostUserFrontend.connect(socket,
                new VhostUserFrontend.Options().queues(1, RING).features(features).inflight(true))) {
            Traffic traffic = new Traffic(fe, 0);
            traffic.run(before); // move the positions off zero: 21 and 13 chains of two slots end past one
                                 // or two wraps of a packed ring of 16 (wrap counter 1 or 0), 8 at its end

            // pops 0..5: the device completes the third and the sixth at once and holds the rest
            first.holdPop = pop -> pop >= before && (pop - before) % 3 != 2;
            int serial = traffic.add(6);
            traffic.kick();
            traffic.awaitEchoes(2, serial);
            awaitHeld(first, 4);
            assertThat(fe.queue(0).inFlight()).isEqualTo(4);

            dying.close(); // the held requests die with it (the device is reset, nothing is completed)
            EchoDevice second = new EchoDevice(1);
            try (VhostUserBackend fresh = VhostUserBackend.start(second, socket)) {
                fe.reconnect();
                traffic.awaitEchoes(4, serial);
                assertThat(second.served.get()).as("resubmitted requests served by the new device").isEqualTo(4);
                assertNothingMoreIsUsed(fe);

                traffic.run(40); // and the ring goes on from where recovery put it
                assertThat(second.served.get()).isEqualTo(44);
                assertNothingMoreIsUsed(fe);
            }
        } finally {
            dying.close();
        }
    }

    /**
     * A back end killed after it published completions and before it signalled them left the driver
     * uninterrupted, with nothing in flight for the next back end to resubmit: the next back end
     * interrupts the driver once when it resumes the ring, so a driver that sleeps until interrupted
     * looks at the used ring. (Found by the container restart test: the guest's writes stalled after a
     * kill that landed in that window.) A fresh ring is not interrupted.
     */
    @ParameterizedTest(name = "packed={0}, event_idx={1}")
    @CsvSource({"false,false", "false,true", "true,false", "true,true"})
    void aResumedRingInterruptsTheDriverOnce(boolean packed, boolean eventIdx) throws Exception {
        Path socket = dir.resolve("vu.sock");
        long features = VirtioFeature.of(VirtioFeature.VERSION_1)
                | (packed ? VirtioFeature.bit(VirtioFeature.RING_PACKED) : 0)
                | (eventIdx ? VirtioFeature.bit(VirtioFeature.RING_EVENT_IDX) : 0);
        VhostUserBackend dying = VhostUserBackend.start(new EchoDevice(1), socket);
        try (VhostUserFrontend fe = VhostUserFrontend.connect(socket,
                new VhostUserFrontend.Options().queues(1, RING).features(features).inflight(true))) {
            assertThat(fe.awaitCall(0, 300)).as("a fresh ring is not interrupted").isFalse();
            new Traffic(fe, 0).run(21); // every request completed and seen
            dying.close();
            fe.awaitCall(0, 100); // whatever the first back end signalled: the driver has seen it all
            try (VhostUserBackend fresh = VhostUserBackend.start(new EchoDevice(1), socket)) {
                fe.reconnect();
                assertThat(fe.awaitCall(0, 10_000)).as("the resumed ring interrupts the driver").isTrue();
                assertNothingMoreIsUsed(fe);
                new Traffic(fe, 0).run(5); // and serves on
            }
        } finally {
            dying.close();
        }
    }

    /**
     * A back end that closes its connection while its device is busy with a request (SIGTERM of the
     * container) publishes nothing after the front end saw the socket close: QEMU resumes the ring at
     * the used index it finds at that moment, so a later completion would make the next back end serve
     * ring entries again that the driver already saw used. (Found by the container restart test: after a
     * SIGTERM the next back end started with avail behind used and failed on a reused buffer.)
     */
    @ParameterizedTest(name = "packed={0}")
    @CsvSource({"false", "true"})
    void aClosingBackEndPublishesNothingAfterItsSocketCloses(boolean packed) throws Exception {
        Path socket = dir.resolve("vu.sock");
        EchoDevice device = new EchoDevice(1);
        VhostUserBackend backEnd = VhostUserBackend.start(device, socket);
        long features = VirtioFeature.of(VirtioFeature.VERSION_1)
                | (packed ? VirtioFeature.bit(VirtioFeature.RING_PACKED) : 0);
        try (VhostUserFrontend fe = VhostUserFrontend.connect(socket,
                new VhostUserFrontend.Options().queues(1, RING).features(features).inflight(true))) {
            Traffic traffic = new Traffic(fe, 0);
            traffic.run(5);
            java.util.concurrent.CountDownLatch busy = new java.util.concurrent.CountDownLatch(1);
            device.completionGate = busy;
            traffic.add(4);
            traffic.kick();
            assertThat(device.atGate.tryAcquire(10, java.util.concurrent.TimeUnit.SECONDS))
                    .as("the device took a request").isTrue();
            Thread closer = new Thread(backEnd::close, "closer");
            closer.start();
            boolean goneWhileBusy = awaitHangUp(fe, 500);
            int usedWhenGone = goneWhileBusy ? drainUsed(fe) : -1;
            busy.countDown();
            if (!goneWhileBusy) {
                assertThat(awaitHangUp(fe, 10_000)).as("the back end closes its socket").isTrue();
                usedWhenGone = drainUsed(fe);
            }
            closer.join(20_000);
            assertThat(closer.isAlive()).isFalse();
            assertThat(drainUsed(fe)).as("completions published after the front end saw the back end go"
                    + " (%d seen then)", usedWhenGone).isZero();
        } finally {
            backEnd.close();
        }
    }

    /** Used elements the driver can take now. */
    private static int drainUsed(VhostUserFrontend fe) {
        int n = 0;
        while (fe.queue(0).pollUsed() != DriverQueue.NO_TOKEN) {
            n++;
        }
        return n;
    }

    /**
     * Whether the back end closes the front end's socket within {@code millis}: what QEMU notices when
     * its back end goes. (The front end has no call for it; its socket is read directly.)
     */
    private static boolean awaitHangUp(VhostUserFrontend fe, long millis) throws Exception {
        java.lang.reflect.Field f = VhostUserFrontend.class.getDeclaredField("socket");
        f.setAccessible(true);
        org.jvirtio.nativeio.UnixSocket s = (org.jvirtio.nativeio.UnixSocket) f.get(fe);
        s.setReceiveTimeout(java.time.Duration.ofMillis(millis));
        try {
            int n = s.receive(java.nio.ByteBuffer.allocate(1), new java.util.ArrayList<>(), 0);
            assertThat(n).as("nothing but the end of the stream").isEqualTo(-1);
            return true;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        }
    }

    private static void awaitHeld(EchoDevice device, int count) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (device.heldCount() < count && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertThat(device.heldCount()).isEqualTo(count);
    }

    /** No completion beyond those counted: nothing in flight, nothing used twice. */
    private static void assertNothingMoreIsUsed(VhostUserFrontend fe) throws IOException {
        DriverQueue q = fe.queue(0);
        fe.awaitCall(0, 100);
        assertThat(q.pollUsed()).as("a used element beyond the requests made").isEqualTo(DriverQueue.NO_TOKEN);
        assertThat(q.inFlight()).isZero();
        assertThat(q.error()).isEqualTo(org.jvirtio.api.queue.QueueError.NONE);
    }
}
