package org.jvirtio.distribution.container;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.stream.Collectors;

import org.jvirtio.distribution.UsageException;
import org.jvirtio.platform.instance.DeviceSpecs;
import org.jvirtio.platform.instance.InstancePlan;
import org.osgi.framework.BundleException;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;

/**
 * {@code java -jar jvirtio.jar}: Apache Felix with Declarative Services, Configuration Admin, File
 * Install, the gogo shell and every jvirtio bundle. Devices are instance configurations: files in
 * {@code conf/} (watched: editing one reconfigures its device live) and {@code --device} options;
 * with neither, a default blk and net device. Bundles copied into {@code deploy/} are installed, or
 * update the bundle of the same name in place.
 *
 * <p>The framework starts from a clean cache at every launch: what runs is what the command line,
 * {@code conf/} and {@code deploy/} say. SIGTERM stops the framework, which stops every device (front
 * ends see their back end leave; images are flushed and closed).
 *
 * <p>{@code --mmio-ssdt FILE} writes the ACPI table of the {@code transport=mmio} devices given and
 * exits without starting anything ({@link MmioSsdtFile}).
 *
 * <p>Exit codes: 0 after {@code --help} or {@code --mmio-ssdt}, or when the framework is stopped from the shell; 2 for a
 * command line it cannot use; 1 if the framework cannot start; 143 on SIGTERM.
 */
public final class Container {
    private static final long STOP_MILLIS = 30_000;
    private static final String LOG_FORMAT = "java.util.logging.SimpleFormatter.format";

    private Container() {
    }

    public static void main(String[] args) throws InterruptedException {
        // one line per event (JUL's default spreads each over two); a -D on the command line wins
        if (System.getProperty(LOG_FORMAT) == null) {
            System.setProperty(LOG_FORMAT, "%1$tF %1$tT %4$s %3$s: %5$s%6$s%n");
        }
        ContainerOptions options;
        try {
            options = ContainerOptions.parse(Arrays.asList(args));
        } catch (UsageException e) {
            System.err.println("jvirtio: " + e.getMessage());
            System.exit(2);
            return;
        }
        if (options.help()) {
            System.out.print(usage());
            return;
        }
        if (options.mmioSsdt() != null) {
            try {
                System.out.println(MmioSsdtFile.write(options.mmioSsdt(), options.devices()));
            } catch (UsageException e) {
                System.err.println("jvirtio: " + e.getMessage());
                System.exit(2);
            } catch (IOException e) {
                System.err.println("jvirtio: cannot write " + options.mmioSsdt() + ": " + e);
                System.exit(1);
            }
            return;
        }
        Framework framework;
        try {
            framework = start(options, System.out);
        } catch (IOException | BundleException | RuntimeException e) {
            System.err.println("jvirtio: cannot start: " + e.getMessage());
            System.exit(1);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(framework), "jvirtio-shutdown"));
        framework.waitForStop(0);
    }

    /** Starts the framework with the bundles and devices {@code options} say; prints what it serves. */
    static Framework start(ContainerOptions options, PrintStream out) throws IOException, BundleException {
        for (Path dir : List.of(options.runDir(), options.confDir(), options.deployDir())) {
            Files.createDirectories(dir);
        }
        List<InstancePlan> devices = options.devices();
        if (devices.isEmpty() && !hasInstanceFiles(options.confDir())) {
            devices = options.defaultDevices();
        }
        Map<String, String> properties = new HashMap<>();
        properties.put("org.osgi.framework.storage", options.runDir().resolve("felix-cache").toString());
        properties.put("org.osgi.framework.storage.clean", "onFirstInit");
        properties.put("felix.fileinstall.dir", options.confDir() + "," + options.deployDir());
        properties.put("felix.fileinstall.poll", "1000");
        properties.put("felix.fileinstall.noInitialDelay", "true");
        properties.put("felix.fileinstall.enableConfigSave", "false"); // conf/ is the user's: never rewritten
        // the shell ends when stdin does; the framework must not (a service has no terminal)
        properties.put("gosh.args", options.shell() ? "--noshutdown" : "--nointeractive --noshutdown");
        properties.put(DeviceSpecs.FRAMEWORK_PROPERTY,
                devices.stream().map(d -> DeviceSpecs.format(d.keys())).collect(Collectors.joining("\n")));
        Framework framework = ServiceLoader.load(FrameworkFactory.class).iterator().next().newFramework(properties);
        framework.start();
        try {
            EmbeddedBundles.installAndStart(framework.getBundleContext(), options.shell());
        } catch (IOException | BundleException | RuntimeException e) {
            stop(framework);
            throw e;
        }
        report(devices, options, out);
        return framework;
    }

    static void stop(Framework framework) {
        try {
            framework.stop();
            framework.waitForStop(STOP_MILLIS);
        } catch (BundleException | InterruptedException e) {
            System.err.println("jvirtio: stopping: " + e);
        }
    }

    private static boolean hasInstanceFiles(Path conf) throws IOException {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(conf, "org.jvirtio.instance-*.cfg")) {
            return files.iterator().hasNext();
        }
    }

    private static void report(List<InstancePlan> devices, ContainerOptions options, PrintStream out) {
        out.println("jvirtio: configuration in " + options.confDir() + ", bundles in " + options.deployDir());
        for (InstancePlan d : devices) {
            out.println("jvirtio: " + d.type() + " device " + d.id() + " on "
                    + (d.pci() ? "PCI slot " + d.slot() + " of the QEMU on " + d.qmp()
                            : d.mmio() ? "mmio window " + d.window() + " of PCI slot " + d.slot() + " of the QEMU on "
                                    + d.qmp() : d.socket()));
        }
        if (!devices.isEmpty()) {
            List<String> qemus = QemuCommandLine.qemus(devices);
            for (String qemu : qemus) {
                out.println(qemus.size() == 1 ? "jvirtio: attach a QEMU guest with:" : "jvirtio: start a QEMU with:");
                out.println("  " + qemu);
            }
        }
        out.flush();
    }

    static String usage() {
        return """
                Usage: java -jar jvirtio.jar [--device TYPE,id=ID,socket=PATH,KEY=VALUE...]...
                                             [--device TYPE,id=ID,transport=pci,qmp=PATH,slot=N,KEY=VALUE...]...
                                             [--device TYPE,id=ID,transport=mmio,qmp=PATH,slot=N,KEY=VALUE...]...
                                             [--run-dir DIR] [--conf-dir DIR] [--deploy-dir DIR] [--no-shell]
                Serves virtio devices over vhost-user, or as virtio-pci functions attached to a paused QEMU
                over its QMP socket, from an OSGi container. Devices come from --device options and from
                org.jvirtio.instance-NAME.cfg files in the conf directory (same keys, plus
                type=blk|net|console|balloon, and id= is required there); with neither, a blk device on a
                1 GiB sparse image and a net device on switch 'default' are served from the run directory.
                  --mmio-ssdt FILE  write the ACPI table declaring the transport=mmio devices given (for
                                    QEMU's -acpitable file=FILE) and exit, starting nothing

                """ + DeviceSpecs.keyHelp() + System.lineSeparator();
    }
}
