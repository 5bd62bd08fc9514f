package org.jvirtio.itest.live;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Hashtable;
import java.util.Map;
import java.util.function.Supplier;

import javax.inject.Inject;

import org.jvirtio.api.management.ServedDevice;
import org.jvirtio.device.balloon.control.BalloonControl;
import org.jvirtio.itest.FelixOptions;
import org.junit.After;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerMethod;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * PCI instances inside Felix, before any QEMU is there: a {@code type=balloon,transport=pci} instance
 * makes a balloon device (no backend) and a PCI transport that registers the device as served, waiting
 * for its QMP socket; its target follows the instance's {@code target} key, and {@code virtio:balloon}
 * changes it on the running device; bad input is an answer naming what is wrong. mmio instances
 * share a slot, one window each.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class PciInstanceIT {
    private static final String INSTANCE = "org.jvirtio.instance";

    @Inject
    private ConfigurationAdmin configAdmin;
    @Inject
    private BundleContext context;

    @Configuration
    public Option[] config() {
        return FelixOptions.pciInstancesInFelix();
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
    public void aBalloonTargetFollowsItsInstanceAndTheShellCommand() throws Exception {
        Path dir = Files.createTempDirectory("jvirtio-pci-instance");
        var instance = configAdmin.createFactoryConfiguration(INSTANCE, "?");
        instance.update(new Hashtable<>(Map.of("type", "balloon", "id", "bal0", "transport", "pci",
                "qmp", dir.resolve("absent-qmp.sock").toString(), "slot", "5", "target", "16M")));
        BalloonControl balloon = await(() -> service(BalloonControl.class, "(jvirtio.id=bal0)"), "balloon bal0");
        assertEquals(4096, balloon.targetPages());

        ServedDevice served = await(() -> service(ServedDevice.class, "(jvirtio.id=bal0)"), "served bal0");
        assertEquals("pci", served.transport());
        assertEquals("waiting", served.state()); // no QEMU on that QMP socket: logged, retried, nothing else
        assertTrue(served.address(), served.address().endsWith("absent-qmp.sock slot 5"));

        Shell shell = new Shell(await(() -> commands(), "virtio commands"));
        assertEquals("balloon bal0: target 64 MiB (16384 pages)", shell.balloon("bal0", "64"));
        awaitTrue(() -> balloon.targetPages() == 16384, "target 16384 pages after virtio:balloon");
        assertEquals("64M", instance.getProperties().get("target")); // kept in the instance

        assertEquals("'lots' is not a whole number of MiB", shell.balloon("bal0", "lots"));
        assertTrue(shell.balloon("bal0", "99999999").contains("device bal0: target: '99999999M' is not a balloon size"));
        assertEquals("no device instance nosuch (see virtio:list)", shell.balloon("nosuch", "1"));
        assertEquals(16384, balloon.targetPages());

        var withTarget = instance.getProperties();
        withTarget.put("target", "1000"); // pages: a live edit of the instance's key
        instance.update(withTarget);
        awaitTrue(() -> balloon.targetPages() == 1000, "target 1000 pages after the edit");
    }

    /**
     * {@code transport=mmio} instances as {@code conf/} files make them (window keys given): each is a
     * served device of transport {@code mmio}, waiting for its QEMU, at its slot and window; a third
     * instance naming a taken window is refused, and the others stay as they were.
     */
    @Test
    public void mmioInstancesShareASlotOneWindowEach() throws Exception {
        Path dir = Files.createTempDirectory("jvirtio-mmio-instance");
        String qmp = dir.resolve("absent-qmp.sock").toString();
        for (String[] b : new String[][] {{"bal0", "0"}, {"bal1", "1"}, {"bal2", "1"}}) {
            configAdmin.createFactoryConfiguration(INSTANCE, "?").update(new Hashtable<>(Map.of("type", "balloon",
                    "id", b[0], "transport", "mmio", "qmp", qmp, "slot", "7", "window", b[1])));
        }
        ServedDevice bal0 = await(() -> service(ServedDevice.class, "(jvirtio.id=bal0)"), "served bal0");
        ServedDevice bal1 = await(() -> service(ServedDevice.class, "(jvirtio.id=bal1)"), "served bal1");
        ServedDevice bal2 = await(() -> service(ServedDevice.class, "(jvirtio.id=bal2)"), "served bal2");
        assertEquals("mmio", bal0.transport());
        assertTrue(bal1.address(), bal1.address().endsWith("absent-qmp.sock slot 7 window 1"));
        // the first of bal1 and bal2 to start takes window 1: configuration admin orders nothing
        awaitTrue(() -> bal1.state().equals("refused") != bal2.state().equals("refused"), "one of bal1, bal2 refused");
        assertEquals("waiting", bal0.state()); // no QEMU on that QMP socket: logged, retried, nothing else
        assertEquals(0L, bal0.negotiatedFeatures());
    }

    /** The platform's gogo commands, a private class of its bundle: called as gogo does, by name. */
    private record Shell(Object commands) {
        String balloon(String id, String mib) throws Exception {
            return (String) commands.getClass().getMethod("balloon", String.class, String.class).invoke(commands, id, mib);
        }
    }

    private Object commands() {
        try {
            var refs = context.getServiceReferences("org.jvirtio.platform.shell.VirtioCommands", null);
            return refs == null ? null : context.getService(refs[0]);
        } catch (org.osgi.framework.InvalidSyntaxException e) {
            throw new IllegalArgumentException(e);
        }
    }

    private <T> T service(Class<T> type, String filter) {
        try {
            var refs = context.getServiceReferences(type, filter);
            return refs.isEmpty() ? null : context.getService(refs.iterator().next());
        } catch (org.osgi.framework.InvalidSyntaxException e) {
            throw new IllegalArgumentException(e);
        }
    }

    /** Configuration admin and DS act asynchronously: waits for what they make (a start condition). */
    private static <T> T await(Supplier<T> what, String name) throws InterruptedException {
        for (int i = 0; i < 600; i++) {
            T t = what.get();
            if (t != null) {
                return t;
            }
            Thread.sleep(50);
        }
        throw new AssertionError(name + " did not appear");
    }

    private static void awaitTrue(Supplier<Boolean> condition, String name) throws InterruptedException {
        assertNotNull(await(() -> condition.get() ? Boolean.TRUE : null, name));
    }
}
