package org.jvirtio.itest;

import static org.ops4j.pax.exam.CoreOptions.bundle;
import static org.ops4j.pax.exam.CoreOptions.cleanCaches;
import static org.ops4j.pax.exam.CoreOptions.composite;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.options;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;

import java.io.File;

import org.ops4j.pax.exam.Option;

/**
 * The container every jvirtio itest runs in: Felix with SCR (and the OSGi APIs SCR needs as separate
 * bundles), JNA, and the jvirtio api, native and vring bundles as built by this reactor.
 */
public final class FelixOptions {
    private FelixOptions() {
    }

    /**
     * Runs in the driver JVM (outside OSGi). Our bundles are plain {@code file:} URLs of jars that the
     * pre-integration-test phase copied to {@code target/bundles}: works in {@code verify} without
     * {@code install}, and pax-url needs no Maven resolution for them.
     */
    private static Option fileBundle(String name) {
        File f = new File(System.getProperty("bundles.dir", "target/bundles"), name + ".jar");
        if (!f.isFile()) {
            throw new IllegalStateException("missing bundle " + f + " (run through mvn verify)");
        }
        return bundle(f.toURI().toString());
    }

    public static Option[] jvirtioInFelix() {
        return options(
                // pax-logging-api's fallback logger prints DEBUG to stdout by default
                systemProperty("org.ops4j.pax.logging.DefaultServiceLog.level").value("WARN"),
                fileBundle("org.osgi.util.function"),
                fileBundle("org.osgi.util.promise"),
                fileBundle("org.osgi.service.component"),
                fileBundle("org.apache.felix.scr"),
                fileBundle("jna"),
                fileBundle("jvirtio-api"),
                fileBundle("jvirtio-native"),
                fileBundle("jvirtio-vring"),
                junitBundles(),
                cleanCaches());
    }

    /**
     * {@link #jvirtioInFelix()} plus Configuration Admin, the vhost-user transport, the blk device
     * bundle and the platform bundle (device instances): devices configured as factory
     * configurations, as the distribution runs them.
     */
    public static Option[] blkOverVhostUserInFelix() {
        return options(
                composite(jvirtioInFelix()),
                fileBundle("org.apache.felix.configadmin"),
                fileBundle("jvirtio-transport-vhost-user"),
                fileBundle("jvirtio-device-blk"),
                fileBundle("jvirtio-platform"));
    }

    /**
     * {@link #jvirtioInFelix()} plus Configuration Admin and the bundles the container adds for PCI
     * devices: the virtio-pci transport (register model, QEMU proxy, DS transport component), the
     * virtio-mmio transport, and the console and balloon device bundles.
     */
    public static Option[] pciDevicesInFelix() {
        return options(
                composite(jvirtioInFelix()),
                fileBundle("org.apache.felix.configadmin"),
                fileBundle("jvirtio-transport-core"),
                fileBundle("jvirtio-transport-pci"),
                fileBundle("jvirtio-transport-mmio"),
                fileBundle("jvirtio-device-console"),
                fileBundle("jvirtio-device-balloon"));
    }

    /** {@link #pciDevicesInFelix()} plus the platform bundle: device instances, shell commands, JMX. */
    public static Option[] pciInstancesInFelix() {
        return options(
                composite(pciDevicesInFelix()),
                fileBundle("jvirtio-platform"));
    }

    /** Where the bundle jars under test are; tests that update a bundle read its jar from here. */
    public static File bundleFile(String name) {
        return new File(System.getProperty("bundles.dir", "target/bundles"), name + ".jar");
    }
}
