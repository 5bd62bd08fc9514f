package org.jvirtio.itest.live;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Map;

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
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * Device instances as users write them (one configuration of {@code org.jvirtio.instance} per device,
 * the keys of {@code --device}): an instance serves its socket; editing its backend switches the
 * device to the new backend under a connected front end; a second instance with the same id, or one
 * with a bad key, starts nothing and leaves the first running; deleting an instance removes its socket
 * and every configuration it made.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class DeviceInstanceIT {
    private static final String INSTANCE = "org.jvirtio.instance";

    @Inject
    private ConfigurationAdmin configAdmin;
    @Inject
    private org.osgi.framework.BundleContext context;
    private Path dir;

    @Configuration
    public Option[] config() {
        return FelixOptions.blkOverVhostUserInFelix();
    }

    @Before
    public void createDirectory() throws Exception {
        dir = Files.createTempDirectory("jvirtio-instance");
    }

    @After
    public void deleteConfigurations() throws Exception {
        var all = configAdmin.listConfigurations("(service.factoryPid=" + INSTANCE + ")");
        if (all != null) {
            for (var c : all) {
                c.delete();
            }
        }
    }

    @Test
    public void editingTheBackendKeepsTheFrontEndConnected() throws Exception {
        Path a = dir.resolve("a.img");
        Path b = dir.resolve("b.img");
        Path socket = dir.resolve("blk0.sock");
        var instance = instance(Map.of("type", "blk", "id", "blk0", "socket", socket.toString(), "path", a.toString(),
                "size", "1M"));
        try (SectorClient client = new SectorClient(awaitSocket(socket))) {
            byte[] first = pattern(1);
            assertEquals(0, client.write(3, first));
            Files.copy(a, b);
            instance.update(dictionary(Map.of("type", "blk", "id", "blk0", "socket", socket.toString(),
                    "path", b.toString())));
            byte[] read = new byte[SectorClient.SECTOR];
            assertEquals(0, client.read(3, read)); // served by whichever device is there: both hold it
            assertArrayEquals(first, read);
            awaitDeviceOver("blk0.2"); // configuration admin delivers the edit asynchronously
            byte[] second = pattern(2);
            assertEquals(0, client.write(4, second));
            assertArrayEquals("the write went to the new backend's file", second, sector(b, 4));
            assertArrayEquals("and not to the old one", new byte[SectorClient.SECTOR], sector(a, 4));
        }
        instance.delete();
        awaitGone(socket);
        assertNull("every configuration the instance made is gone",
                configAdmin.listConfigurations("(jvirtio.instance=*)"));
    }

    @Test
    public void aDuplicateIdABadKeyOrAnUnusableSocketStartsNothingAndTheFirstRunsOn() throws Exception {
        Path socket = dir.resolve("first.sock");
        instance(Map.of("type", "blk", "id", "blk0", "socket", socket.toString(), "backend", "memory", "size", "1M"));
        Path duplicate = dir.resolve("duplicate.sock");
        var second = instance(Map.of("type", "blk", "id", "blk0", "socket", duplicate.toString(), "backend",
                "memory", "size", "1M"));
        Path bad = dir.resolve("bad.sock");
        var third = instance(Map.of("type", "blk", "id", "blk9", "socket", bad.toString(), "backend", "tape"));
        Path noPath = dir.resolve("nopath.sock");
        var fourth = instance(Map.of("type", "blk", "id", "blk8", "socket", noPath.toString()));
        Path unwritable = dir.resolve("no-such-dir").resolve("blk7.sock");
        instance(Map.of("type", "blk", "id", "blk7", "socket", unwritable.toString(), "backend", "memory",
                "size", "1M"));
        try (SectorClient client = new SectorClient(awaitSocket(socket))) {
            assertEquals(0, client.write(0, pattern(7)));
        }
        Thread.sleep(500);
        assertFalse(Files.exists(duplicate));
        assertFalse(Files.exists(bad));
        assertFalse(Files.exists(noPath));
        assertNull(configAdmin.listConfigurations("(jvirtio.instance=" + fourth.getPid() + ")"));
        try (SectorClient client = new SectorClient(socket)) { // the first still serves after all that
            byte[] read = new byte[SectorClient.SECTOR];
            assertEquals(0, client.read(0, read));
            assertArrayEquals(pattern(7), read);
        }
        assertNull(configAdmin.listConfigurations("(jvirtio.instance=" + second.getPid() + ")"));
        assertNull(configAdmin.listConfigurations("(jvirtio.instance=" + third.getPid() + ")"));
    }

    /** Waits until the device service of blk0 runs over the backend tagged {@code tag}. */
    private void awaitDeviceOver(String tag) throws Exception {
        String filter = "(&(objectClass=org.jvirtio.api.device.VirtioDevice)(jvirtio.id=blk0)"
                + "(backend.target=\\(jvirtio.backend=" + tag + "\\)))";
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (context.getServiceReferences((String) null, filter) == null && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue("device over backend " + tag, context.getServiceReferences((String) null, filter) != null);
    }

    @Test
    public void shellCommandsAndJmxShowAndSwapTheDevice() throws Exception {
        Path socket = dir.resolve("shell.sock");
        instance(Map.of("type", "blk", "id", "blk0", "socket", socket.toString(), "backend", "memory", "size", "1M"));
        try (SectorClient client = new SectorClient(awaitSocket(socket))) {
            for (int s = 0; s < 10; s++) {
                assertEquals(0, client.write(s, pattern(s)));
            }
            var server = java.lang.management.ManagementFactory.getPlatformMBeanServer();
            var bean = new javax.management.ObjectName("org.jvirtio:type=Device,id=\"blk0\"");
            assertEquals("running", server.getAttribute(bean, "State"));
            assertEquals("blk", server.getAttribute(bean, "DeviceType"));
            var queues = (javax.management.openmbean.CompositeData[]) server.getAttribute(bean, "Queues");
            assertEquals(10L, queues[0].get("completed"));
            String list = command("list");
            assertTrue(list, list.contains("blk0") && list.contains("running") && list.contains(socket.toString()));
            String stats = command("stats", "blk0");
            assertTrue(stats, stats.contains("COMPLETED") && stats.contains("device counters:"));
            assertTrue(command("stats", "nope").startsWith("no device nope"));
            String swap = command("swap", "blk0", new String[] {"size=2M"});
            assertTrue(swap, swap.startsWith("device blk0 reconfigured"));
            awaitDeviceOver("blk0.2");
            assertEquals(0, client.write(0, pattern(1)));
            assertEquals("device blk0 reset", command("reset", "blk0"));
        }
    }

    /** Calls a virtio shell command as gogo would (the command class is private to its bundle). */
    private String command(String name, Object... args) throws Exception {
        var refs = context.getServiceReferences((String) null, "(osgi.command.scope=virtio)");
        assertTrue("the virtio commands are registered", refs != null && refs.length == 1);
        Object commands = context.getService(refs[0]);
        for (var m : commands.getClass().getMethods()) {
            if (m.getName().equals(name) && m.getParameterCount() == args.length) {
                return (String) m.invoke(commands, args);
            }
        }
        throw new AssertionError("no command virtio:" + name + " with " + args.length + " arguments");
    }

    private org.osgi.service.cm.Configuration instance(Map<String, String> keys) throws Exception {
        var c = configAdmin.createFactoryConfiguration(INSTANCE, "?");
        c.update(dictionary(keys));
        return c;
    }

    private static Dictionary<String, Object> dictionary(Map<String, String> keys) {
        return new Hashtable<>(keys);
    }

    private static byte[] pattern(int seed) {
        byte[] b = new byte[SectorClient.SECTOR];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (seed * 37 + i);
        }
        return b;
    }

    private static byte[] sector(Path image, int sector) throws Exception {
        byte[] b = new byte[SectorClient.SECTOR];
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "r")) {
            f.seek((long) sector * SectorClient.SECTOR);
            f.readFully(b);
        }
        return b;
    }

    private static Path awaitSocket(Path socket) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!Files.exists(socket) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue("the instance listens on " + socket, Files.exists(socket));
        return socket;
    }

    private static void awaitGone(Path socket) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (Files.exists(socket) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertFalse("the socket is removed with its instance", Files.exists(socket));
    }
}
