package org.jvirtio.distribution.container;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.jvirtio.distribution.UsageException;
import org.jvirtio.platform.instance.DeviceSpecs;
import org.jvirtio.platform.instance.InstanceConfigException;
import org.jvirtio.platform.instance.InstancePlan;

/**
 * The container's command line: {@code --device SPEC} (repeated), {@code --run-dir},
 * {@code --conf-dir}, {@code --deploy-dir} (defaults {@code run}, {@code conf}, {@code deploy} under the
 * working directory), {@code --no-shell}, {@code --mmio-ssdt FILE} (write the ACPI table of the
 * {@code transport=mmio} devices and exit), {@code --help}. Every {@code --device} is checked here, alone
 * and against the others ({@link DeviceSpecs#commandLine}), so a typo ends the launch with a usage error
 * instead of a log line inside the running container.
 *
 * @param devices  the {@code --device} options, checked, each with its id
 * @param mmioSsdt {@code --mmio-ssdt}'s file, null without it
 */
record ContainerOptions(List<InstancePlan> devices, Path runDir, Path confDir, Path deployDir, boolean shell,
        boolean help, Path mmioSsdt) {

    static ContainerOptions parse(List<String> args) throws UsageException {
        List<String> devices = new ArrayList<>();
        Path run = Path.of("run");
        Path conf = Path.of("conf");
        Path deploy = Path.of("deploy");
        boolean shell = true;
        boolean help = false;
        Path mmioSsdt = null;
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            String name = arg.contains("=") && arg.startsWith("--") ? arg.substring(0, arg.indexOf('=')) : arg;
            switch (name) {
                case "--help", "-h" -> help = true;
                case "--no-shell" -> shell = false;
                case "--device", "--run-dir", "--conf-dir", "--deploy-dir", "--mmio-ssdt" -> {
                    String value;
                    if (arg.length() > name.length()) {
                        value = arg.substring(name.length() + 1);
                    } else if (i + 1 < args.size()) {
                        value = args.get(++i);
                    } else {
                        throw new UsageException(name + " needs a value");
                    }
                    switch (name) {
                        case "--device" -> devices.add(value);
                        case "--run-dir" -> run = Path.of(value);
                        case "--conf-dir" -> conf = Path.of(value);
                        case "--mmio-ssdt" -> mmioSsdt = path(name, value);
                        default -> deploy = Path.of(value);
                    }
                }
                default -> throw new UsageException("unknown option " + arg + " (see --help)");
            }
        }
        List<InstancePlan> plans = help ? List.of() : checked(devices);
        if (mmioSsdt != null && !help) {
            MmioSsdtFile.table(plans); // the same usage errors before anything is written
        }
        return new ContainerOptions(plans, run.toAbsolutePath(), conf.toAbsolutePath(), deploy.toAbsolutePath(),
                shell, help, mmioSsdt);
    }

    private static Path path(String option, String value) throws UsageException {
        try {
            if (value.isEmpty()) {
                throw new UsageException(option + " needs a file name");
            }
            return Path.of(value);
        } catch (java.nio.file.InvalidPathException e) {
            throw new UsageException(option + " " + value + ": not a path (" + e.getReason() + ")");
        }
    }

    private static List<InstancePlan> checked(List<String> specs) throws UsageException {
        try {
            return DeviceSpecs.commandLine(specs);
        } catch (InstanceConfigException e) {
            throw new UsageException(e.getMessage());
        }
    }

    /** The devices served when neither the command line nor {@code conf/} names any. */
    List<InstancePlan> defaultDevices() {
        return DeviceSpecs.commandLine(List.of(
                "blk,id=blk0,socket=" + escaped(runDir.resolve("blk0.sock")) + ",path="
                        + escaped(runDir.resolve("blk0.img")) + ",size=1G",
                "net,id=net0,socket=" + escaped(runDir.resolve("net0.sock")) + ",backend=switch,switch=default"));
    }

    private static String escaped(Path path) {
        return path.toString().replace(",", ",,");
    }
}
