package org.jvirtio.transport.vhostuser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.device.AbstractVirtioDevice;
import org.jvirtio.api.device.DeviceActivation;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replacing the device behind a connected front end (a device bundle updated, a backend swapped): the
 * front end keeps its connection and rings and sees every chain completed exactly once, by one device
 * or the other; what cannot take over is refused and the running device goes on.
 */
class DeviceReplacementTest {
    @TempDir
    Path dir;
    private EchoDevice first;
    private VhostUserBackend backend;
    private Path socket;

    @BeforeEach
    void start() throws IOException {
        first = new EchoDevice(2);
        socket = dir.resolve("swap.sock");
        backend = VhostUserBackend.start(first, socket);
    }

    @AfterEach
    void stop() {
        backend.close();
    }

    private static VhostUserFrontend.Options options(boolean packed) {
        long f = VirtioFeature.of(VirtioFeature.VERSION_1, VirtioFeature.RING_EVENT_IDX);
        return new VhostUserFrontend.Options().queues(2, 64)
                .features(packed ? f | VirtioFeature.bit(VirtioFeature.RING_PACKED) : f);
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void trafficRunsOnAcrossTwentyReplacements(boolean packed) throws Exception {
        EchoDevice second = new EchoDevice(2);
        try (VhostUserFrontend fe = VhostUserFrontend.connect(socket, options(packed))) {
            Traffic traffic = new Traffic(fe, 0);
            traffic.run(32);
            java.util.concurrent.atomic.AtomicBoolean swapping = new java.util.concurrent.atomic.AtomicBoolean(true);
            CompletableFuture<Integer> load = CompletableFuture.supplyAsync(() -> {
                int moved = 0;
                try {
                    while (swapping.get()) {
                        traffic.run(64); // each echo checked: none missing, none doubled, none stale
                        moved += 64;
                    }
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                return moved;
            });
            List<Duration> pauses = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                pauses.add(backend.replaceDevice(i % 2 == 0 ? second : first, Duration.ofSeconds(5)));
                Thread.sleep(5);
            }
            swapping.set(false);
            int moved = load.get(60, TimeUnit.SECONDS);
            assertThat(pauses).hasSize(20).allSatisfy(p -> assertThat(p).isPositive());
            assertThat(first.served.get() + second.served.get()).isEqualTo(32 + moved);
            assertThat(second.served.get()).as("the replacement served traffic").isPositive();
            assertThat(second.activations.get()).isEqualTo(10);
            assertThat(second.resets.get()).isEqualTo(10);
            assertThat(first.activations.get()).isEqualTo(11); // the first start, then every odd swap
            assertThat(first.notifiedWhileStopped.get() + second.notifiedWhileStopped.get()).isZero();
        }
    }

    /**
     * A front end may kick at any time, also while the new device is starting: the kick waits for the
     * start (a CI run once lost a whole batch to a device served before its activation had returned).
     */
    @Test
    void aKickDuringTheSwapIsServedByTheNewDeviceOnceItHasStarted() throws Exception {
        EchoDevice second = new EchoDevice(2);
        java.util.concurrent.CountDownLatch startMayFinish = new java.util.concurrent.CountDownLatch(1);
        second.activationGate = startMayFinish;
        try (VhostUserFrontend fe = VhostUserFrontend.connect(socket, options(false))) {
            Traffic traffic = new Traffic(fe, 0);
            traffic.run(8);
            CompletableFuture<Duration> replacing = CompletableFuture.supplyAsync(
                    () -> backend.replaceDevice(second, Duration.ofSeconds(10)));
            int firstSerial;
            try {
                assertThat(second.atActivation.tryAcquire(10, TimeUnit.SECONDS)).as("the swap under way").isTrue();
                firstSerial = traffic.add(4);
                traffic.kick();
                fe.kick(0); // kicked whether or not the ring asked for it
                Thread.sleep(100); // time for the ring's thread to serve the kick (it must not yet)
                assertThat(second.notifiedWhileStopped).as("the new device served before it started").hasValue(0);
                assertThat(first.notifiedWhileStopped).as("the old device served after its reset").hasValue(0);
            } finally {
                startMayFinish.countDown();
            }
            assertThat(replacing.get(10, TimeUnit.SECONDS)).isPositive();
            traffic.awaitEchoes(4, firstSerial);
            assertThat(second.served).hasValue(4);
            assertThat(first.served).hasValue(8);
            assertThat(first.notifiedWhileStopped.get() + second.notifiedWhileStopped.get()).isZero();
        }
    }

    @Test
    void waitsForChainsTheOldDeviceHoldsAndCompletesThemExactlyOnce() throws Exception {
        try (VhostUserFrontend fe = VhostUserFrontend.connect(socket, options(false))) {
            Traffic traffic = new Traffic(fe, 0);
            traffic.run(8);
            first.hold = true;
            int firstSerial = traffic.add(4);
            traffic.kick();
            awaitHeld(first, 4);
            EchoDevice second = new EchoDevice(2);
            CompletableFuture<Duration> replacing = CompletableFuture.supplyAsync(
                    () -> backend.replaceDevice(second, Duration.ofSeconds(10)));
            Thread.sleep(200);
            assertThat(replacing).as("the replacement waits for the held chains").isNotDone();
            first.completeHeld(0); // the old device finishes its requests (a slow disk)
            assertThat(replacing.get(10, TimeUnit.SECONDS)).isPositive(); // it waited: not done before completeHeld
            traffic.awaitEchoes(4, firstSerial);
            traffic.run(64);
            assertThat(second.served.get()).isEqualTo(64);
            assertThat(first.resets.get()).isEqualTo(1);
        }
    }

    @Test
    void aDeviceThatKeepsItsChainsIsNotReplacedAndRunsOn() throws Exception {
        try (VhostUserFrontend fe = VhostUserFrontend.connect(socket, options(false))) {
            Traffic traffic = new Traffic(fe, 0);
            first.hold = true;
            int firstSerial = traffic.add(2);
            traffic.kick();
            awaitHeld(first, 2);
            EchoDevice second = new EchoDevice(2);
            assertThatThrownBy(() -> backend.replaceDevice(second, Duration.ofMillis(100)))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("still holds 2 chain(s)");
            assertThat(second.activations.get()).isZero();
            assertThat(first.resets.get()).isZero();
            first.hold = false;
            first.completeHeld(0);
            traffic.awaitEchoes(2, firstSerial);
            traffic.run(64);
        }
    }

    @Test
    void refusesADeviceThatCannotServeTheNegotiatedRings() throws Exception {
        try (VhostUserFrontend fe = VhostUserFrontend.connect(socket, options(true))) {
            Traffic traffic = new Traffic(fe, 0);
            traffic.run(8);
            assertThatThrownBy(() -> backend.replaceDevice(new EchoDevice(3), Duration.ofSeconds(1)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("3 queues instead of 2");
            assertThatThrownBy(() -> backend.replaceDevice(new EchoDevice(2, true), Duration.ofSeconds(1)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("serves queues");
            assertThatThrownBy(() -> backend.replaceDevice(Inert.splitOnly(), Duration.ofSeconds(1)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("negotiated features 0x" + Long.toHexString(
                            VirtioFeature.bit(VirtioFeature.RING_PACKED)));
            traffic.run(64);
            assertThat(first.served.get()).isEqualTo(72);
            assertThat(first.resets.get()).isZero();
        }
    }

    @Test
    void aDeviceThatFailsToStartLeavesTheOldOneRunning() throws Exception {
        try (VhostUserFrontend fe = VhostUserFrontend.connect(socket, options(false))) {
            Traffic traffic = new Traffic(fe, 0);
            traffic.run(8);
            assertThatThrownBy(() -> backend.replaceDevice(Inert.failingToStart(), Duration.ofSeconds(1)))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("failed to start");
            traffic.run(64);
            assertThat(first.served.get()).isEqualTo(72);
            assertThat(first.activations.get()).isEqualTo(2); // reset, then started again
        }
    }

    @Test
    void withoutAFrontEndTheNextConnectionGetsTheNewDevice() throws Exception {
        EchoDevice second = new EchoDevice(2);
        assertThat(backend.replaceDevice(second, Duration.ofSeconds(1))).isZero();
        try (VhostUserFrontend fe = VhostUserFrontend.connect(socket, options(false))) {
            new Traffic(fe, 0).run(16);
        }
        assertThat(second.served.get()).isEqualTo(16);
        assertThat(first.served.get()).isZero();
    }

    private static void awaitHeld(EchoDevice device, int count) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (device.heldCount() < count && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertThat(device.heldCount()).isEqualTo(count);
    }

    /**
     * The pause is logged as plain digits, whatever the locale: tests and operators read it from the log
     * (MessageFormat once printed a pause of 51 ms as "51,121 us", which a parser took for 121 us).
     */
    @Test
    void logsThePauseAsPlainDigits() throws Exception {
        List<String> messages = new CopyOnWriteArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                messages.add(new SimpleFormatter().formatMessage(record));
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger jul = Logger.getLogger("org.jvirtio.transport.vhostuser");
        Locale locale = Locale.getDefault();
        Locale.setDefault(Locale.US); // groups thousands with ','
        jul.addHandler(capture);
        try (VhostUserFrontend fe = VhostUserFrontend.connect(socket, options(false))) {
            new Traffic(fe, 0).run(8);
            Duration paused = backend.replaceDevice(Inert.slowToStart(), Duration.ofSeconds(5));
            assertThat(paused).isGreaterThan(Duration.ofMillis(2));
            assertThat(messages).anySatisfy(m -> assertThat(m)
                    .matches(".*: device replaced, rings paused for \\d{4,} us"));
        } finally {
            jul.removeHandler(capture);
            Locale.setDefault(locale);
        }
    }

    /** A device that serves nothing: offers {@code features}; with {@code failing}, refuses to start. */
    private static final class Inert extends AbstractVirtioDevice {
        private final boolean failing;
        private final long startMillis;

        Inert(long features, boolean failing) {
            this(features, failing, 0);
        }

        Inert(long features, boolean failing, long startMillis) {
            super(0x7f, new int[] {1024, 1024}, features);
            this.failing = failing;
            this.startMillis = startMillis;
        }

        /** Takes 3 ms to start, so that the rings stay paused for more than a thousand microseconds. */
        static Inert slowToStart() {
            return new Inert(EchoDevice.FEATURES, false, 3);
        }

        /** Offers everything EchoDevice does but packed rings. */
        static Inert splitOnly() {
            return new Inert(EchoDevice.FEATURES & ~VirtioFeature.bit(VirtioFeature.RING_PACKED), false);
        }

        /** Fails to start, like a device whose backend cannot open its file. */
        static Inert failingToStart() {
            return new Inert(EchoDevice.FEATURES, true);
        }

        @Override
        protected byte[] configSpace() {
            return new byte[16];
        }

        @Override
        protected void onActivate(long features, DeviceActivation activation) {
            if (failing) {
                throw new IllegalStateException("backend unavailable");
            }
            if (startMillis > 0) {
                try {
                    Thread.sleep(startMillis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        @Override
        protected void onReset() {
        }

        @Override
        public void queueNotified(int index) {
        }
    }
}
