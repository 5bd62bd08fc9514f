package org.jvirtio.itest.live;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import javax.inject.Inject;

import org.jvirtio.itest.FelixOptions;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerMethod;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * Inside Felix, configured the way the distribution runs devices (factory configurations for the
 * backend, the device and the vhost-user socket): a front end writes and reads back sectors without
 * pause while the blk device bundle is updated 20 times, or its backend is switched between two files
 * by a configuration change. The front end keeps one connection, every request completes with OK and
 * every sector reads back what was last written to it.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class LiveDeviceSwapIT {
    private static final String DEVICE_BUNDLE = "org.jvirtio.jvirtio-device-blk";
    private static final int SECTORS = 64;

    @Inject
    private BundleContext context;
    @Inject
    private ConfigurationAdmin configAdmin;
    private Path dir;

    @Configuration
    public Option[] config() {
        return FelixOptions.blkOverVhostUserInFelix();
    }

    @Before
    public void createDirectory() throws Exception {
        dir = Files.createTempDirectory("jvirtio-live");
    }

    @After
    public void deleteConfigurations() throws Exception {
        var all = configAdmin.listConfigurations(null);
        if (all != null) {
            for (var c : all) {
                c.delete();
            }
        }
    }

    @Test
    public void deviceBundleUpdatedTwentyTimesUnderIo() throws Exception {
        Path socket = dir.resolve("blk0.sock");
        fileBackend("a", dir.resolve("a.img"));
        org.osgi.service.cm.Configuration device = device("a");
        transport(socket);
        try (SectorClient client = new SectorClient(awaitSocket(socket))) {
            Workload workload = new Workload(client);
            CompletableFuture<Integer> io = CompletableFuture.supplyAsync(workload::run);
            Bundle blk = bundle(DEVICE_BUNDLE);
            for (int i = 0; i < 20; i++) {
                try (InputStream jar = new FileInputStream(FelixOptions.bundleFile("jvirtio-device-blk"))) {
                    blk.update(jar);
                }
                Thread.sleep(150);
            }
            workload.stop.set(true);
            int requests = io.get(60, TimeUnit.SECONDS);
            assertTrue("requests made during the updates: " + requests, requests > 100);
            workload.verifyAll();
            System.out.printf("blk bundle updated 20 times under I/O: %d requests, longest %.1f ms%n", requests,
                    client.longestNanos() / 1e6);
        }
        device.delete();
    }

    @Test
    public void backendSwitchedBetweenTwoFilesByConfiguration() throws Exception {
        Path socket = dir.resolve("blk1.sock");
        Path a = dir.resolve("a.img");
        Path b = dir.resolve("b.img");
        fileBackend("a", a);
        fileBackend("b", b);
        org.osgi.service.cm.Configuration device = device("a");
        transport(socket);
        try (SectorClient client = new SectorClient(awaitSocket(socket))) {
            Workload workload = new Workload(client);
            for (int s = 0; s < SECTORS; s++) {
                workload.writeAndCheck(s);
            }
            Files.copy(a, b, java.nio.file.StandardCopyOption.REPLACE_EXISTING); // the same data on both
            Workload reader = workload.readOnly();
            CompletableFuture<Integer> io = CompletableFuture.supplyAsync(reader::run);
            for (int i = 0; i < 10; i++) {
                device.update(deviceProperties(i % 2 == 0 ? "b" : "a"));
                Thread.sleep(300);
            }
            reader.stop.set(true);
            int requests = io.get(60, TimeUnit.SECONDS);
            assertTrue("reads made during the switches: " + requests, requests > 20);
            System.out.printf("blk backend switched 10 times under reads: %d requests, longest %.1f ms%n",
                    requests, client.longestNanos() / 1e6);
        }
    }

    // ------------------------------------------------------------------ configuration

    private void fileBackend(String name, Path image) throws Exception {
        Dictionary<String, Object> p = new Hashtable<>();
        p.put("path", image.toString());
        p.put("size", 1L << 20);
        p.put("create", true);
        p.put("jvirtio.backend", name);
        configAdmin.createFactoryConfiguration("org.jvirtio.blk.backend.file", "?").update(p);
    }

    private org.osgi.service.cm.Configuration device(String backend) throws Exception {
        org.osgi.service.cm.Configuration c = configAdmin.createFactoryConfiguration("org.jvirtio.blk.device", "?");
        c.update(deviceProperties(backend));
        return c;
    }

    private static Dictionary<String, Object> deviceProperties(String backend) {
        Dictionary<String, Object> p = new Hashtable<>();
        p.put("jvirtio.id", "blk0");
        p.put("backend.target", "(jvirtio.backend=" + backend + ")");
        p.put("packed", false);
        return p;
    }

    private void transport(Path socket) throws Exception {
        Dictionary<String, Object> p = new Hashtable<>();
        p.put("socket", socket.toString());
        p.put("device.target", "(jvirtio.id=blk0)");
        configAdmin.createFactoryConfiguration("org.jvirtio.vhostuser.transport", "?").update(p);
    }

    private static Path awaitSocket(Path socket) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!Files.exists(socket) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue("the transport listens on " + socket, Files.exists(socket));
        return socket;
    }

    private Bundle bundle(String symbolicName) {
        for (Bundle b : context.getBundles()) {
            if (symbolicName.equals(b.getSymbolicName())) {
                return b;
            }
        }
        throw new AssertionError("no bundle " + symbolicName);
    }

    // ------------------------------------------------------------------ the front end's work

    /** Writes a sector, reads it back, checks it; round the disk, until stopped. */
    private static final class Workload {
        final AtomicBoolean stop = new AtomicBoolean();
        private final SectorClient client;
        private final int[] lastWritten = new int[SECTORS];
        private final boolean writes;
        private int serial = 1;

        Workload(SectorClient client) {
            this(client, true);
        }

        private Workload(SectorClient client, boolean writes) {
            this.client = client;
            this.writes = writes;
        }

        Workload readOnly() {
            Workload r = new Workload(client, false);
            System.arraycopy(lastWritten, 0, r.lastWritten, 0, SECTORS);
            return r;
        }

        int run() {
            int requests = 0;
            try {
                for (int s = 0; !stop.get(); s = (s + 1) % SECTORS) {
                    if (writes) {
                        writeAndCheck(s);
                    } else {
                        check(s);
                    }
                    requests++;
                }
            } catch (Exception e) {
                throw new IllegalStateException("after " + requests + " requests", e);
            }
            return requests;
        }

        void writeAndCheck(int sector) throws Exception {
            int value = serial++;
            assertEquals("write status", 0, client.write(sector, pattern(sector, value)));
            lastWritten[sector] = value;
            check(sector);
        }

        void check(int sector) throws Exception {
            byte[] read = new byte[SectorClient.SECTOR];
            assertEquals("read status", 0, client.read(sector, read));
            assertArrayEquals("sector " + sector, pattern(sector, lastWritten[sector]), read);
        }

        void verifyAll() throws Exception {
            for (int s = 0; s < SECTORS; s++) {
                check(s);
            }
        }

        private static byte[] pattern(int sector, int value) {
            byte[] b = new byte[SectorClient.SECTOR];
            if (value == 0) {
                return b; // never written: the sparse image reads zeros
            }
            for (int i = 0; i < b.length; i++) {
                b[i] = (byte) (value * 131 + sector * 7 + i);
            }
            return b;
        }
    }
}
