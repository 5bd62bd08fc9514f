package org.jvirtio.transport.vhostuser;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.jvirtio.api.queue.DeviceQueue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A device that fills a queue from a thread of its own (a net receive queue, on the sender's thread)
 * holds the queue's serve lock around each use. The transport must take that same lock before it
 * changes the ring: a ring stop (GET_VRING_BASE) waits while another thread holds it, and goes on
 * once it is released. Each ring has its own lock when the device serves queues concurrently.
 */
class ServeLockTest {
    @TempDir
    Path dir;

    @Test
    void ringStopWaitsForAThreadHoldingTheServeLock() throws Exception {
        EchoDevice device = new EchoDevice(2);
        try (VhostUserBackend backend = VhostUserBackend.start(device, dir.resolve("s.sock"));
                VhostUserFrontend front = VhostUserFrontend.connect(dir.resolve("s.sock"),
                        new VhostUserFrontend.Options())) {
            DeviceQueue queue = device.queue(0);
            CompletableFuture<int[]> stop;
            synchronized (queue.serveLock()) {
                stop = CompletableFuture.supplyAsync(() -> {
                    try {
                        return front.stop();
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                Thread.sleep(300);
                assertThat(stop).as("the ring stop waits for the serve lock").isNotDone();
            }
            assertThat(stop.get(10, TimeUnit.SECONDS)).as("the ring stops once the lock is free").isNotEmpty();
        }
    }

    @Test
    void aConcurrentDeviceHasOneLockPerQueue() throws Exception {
        EchoDevice device = new EchoDevice(2, true);
        try (VhostUserBackend backend = VhostUserBackend.start(device, dir.resolve("c.sock"));
                VhostUserFrontend front = VhostUserFrontend.connect(dir.resolve("c.sock"),
                        new VhostUserFrontend.Options())) {
            assertThat(device.queue(0).serveLock()).isNotSameAs(device.queue(1).serveLock())
                    .isNotSameAs(device.queue(0));
        }
    }
}
