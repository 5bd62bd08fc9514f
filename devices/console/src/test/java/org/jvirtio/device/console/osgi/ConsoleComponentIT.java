package org.jvirtio.device.console.osgi;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.lang.reflect.Method;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import org.apache.felix.framework.FrameworkFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.launch.Framework;

/**
 * The bundle inside Felix with SCR and Configuration Admin: factory configurations create the backends
 * and the device, the device finds its backends by filter and {@code port} property and waits for as
 * many as {@code backends.cardinality.minimum} says, and a byte written to emerg_wr reaches a real
 * client of the socket backend. The bundles' classes live in the framework's class loaders, so the
 * test calls their services reflectively.
 */
class ConsoleComponentIT {
    private static final long PATIENCE_NANOS = 30_000_000_000L;

    @TempDir
    Path dir;
    private Framework framework;
    private BundleContext context;

    @BeforeEach
    void start() throws Exception {
        Map<String, String> config = new HashMap<>();
        config.put(Constants.FRAMEWORK_STORAGE, dir.resolve("felix-cache").toString());
        config.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        config.put("ds.loglevel", "warn"); // SCR reports component failures on the console
        framework = new FrameworkFactory().newFramework(config);
        framework.start();
        context = framework.getBundleContext();
        List<Bundle> bundles = new ArrayList<>();
        for (String name : List.of("function", "promise", "component", "configadmin", "scr", "api", "console")) {
            String path = System.getProperty("bundle." + name);
            assertThat(path).as("bundle.%s (set by the pom)", name).isNotNull();
            bundles.add(context.installBundle(new File(path).toURI().toString()));
        }
        for (Bundle b : bundles) {
            b.start();
        }
    }

    @AfterEach
    void stop() throws Exception {
        framework.stop();
        framework.waitForStop(30_000);
    }

    private <T> T await(String what, Supplier<T> value) throws InterruptedException {
        long deadline = System.nanoTime() + PATIENCE_NANOS;
        T v;
        while ((v = value.get()) == null) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("never happened: " + what + states());
            }
            Thread.sleep(10);
        }
        return v;
    }

    /** Each bundle's name and state, for a failure message. */
    private String states() {
        StringBuilder b = new StringBuilder();
        for (Bundle bundle : context.getBundles()) {
            b.append("\n  ").append(bundle.getSymbolicName()).append(": ").append(bundle.getState());
        }
        // and what SCR says of each component: its configurations' states and failures
        try {
            Object scr = service("org.osgi.service.component.runtime.ServiceComponentRuntime", null);
            if (scr != null) {
                Object descriptions = call(scr, "getComponentDescriptionDTOs", new Class<?>[] {Bundle[].class},
                        (Object) new Bundle[0]);
                for (Object d : (Iterable<?>) descriptions) {
                    b.append("\n  component ").append(d.getClass().getField("name").get(d));
                    Method configurations = scr.getClass().getMethod("getComponentConfigurationDTOs",
                            scr.getClass().getClassLoader().loadClass(
                                    "org.osgi.service.component.runtime.dto.ComponentDescriptionDTO"));
                    configurations.setAccessible(true);
                    for (Object c : (Iterable<?>) configurations.invoke(scr, d)) {
                        b.append(" state ").append(c.getClass().getField("state").get(c)).append(' ')
                                .append(c.getClass().getField("failure").get(c));
                    }
                }
            }
        } catch (Exception e) {
            b.append("\n  (no SCR view: ").append(e).append(')');
        }
        return b.toString();
    }

    private Object service(String type, String filter) {
        try {
            ServiceReference<?>[] refs = context.getAllServiceReferences(type, filter);
            return refs == null ? null : context.getService(refs[0]);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Creates and fills a factory configuration through Configuration Admin's API, reflectively. */
    private void configure(String factoryPid, Map<String, Object> properties) throws Exception {
        Object configAdmin = await("ConfigurationAdmin", () -> service("org.osgi.service.cm.ConfigurationAdmin", null));
        Object configuration = configAdmin.getClass().getMethod("createFactoryConfiguration", String.class, String.class)
                .invoke(configAdmin, factoryPid, null); // unbound: SCR takes it for the component
        Dictionary<String, Object> d = new Hashtable<>(properties);
        Method update = configuration.getClass().getMethod("update", Dictionary.class);
        update.setAccessible(true);
        update.invoke(configuration, d);
    }

    private static Object call(Object target, String method, Class<?>[] types, Object... args) throws Exception {
        Method m = target.getClass().getMethod(method, types);
        m.setAccessible(true);
        return m.invoke(target, args);
    }

    @Test
    void aTwoPortDeviceFromConfigurationAdminServesItsSocketBackend() throws Exception {
        Path socket = dir.resolve("con0.sock");
        Path log = dir.resolve("con0-port1.log");
        configure("org.jvirtio.console.device", Map.of("ports", 2, "names", new String[] {"", "org.jvirtio.log"},
                "backends.target", "(device=con0)", "backends.cardinality.minimum", 2, "packed", false));
        configure("org.jvirtio.console.backend.socket", Map.of("device", "con0", "port", 0, "path", socket.toString()));
        // one of two backends: the device waits (and the backend, a delayed component, with it)
        assertThat(service("org.jvirtio.api.device.VirtioDevice", null)).isNull();
        configure("org.jvirtio.console.backend.log", Map.of("device", "con0", "port", 1, "path", log.toString()));

        Object device = await("the console device", () -> service("org.jvirtio.api.device.VirtioDevice", null));
        assertThat(call(device, "deviceId", new Class<?>[0])).isEqualTo(3);
        assertThat(call(device, "queueCount", new Class<?>[0])).isEqualTo(6);
        byte[] config = new byte[12];
        call(device, "readConfig", new Class<?>[] {int.class, byte[].class, int.class, int.class}, 0, config, 0, 12);
        assertThat(config).startsWith(80, 0, 24, 0, 2, 0, 0, 0);
        assertThat(log).exists();
        assertThat(Files.exists(socket)).isTrue();

        try (SocketChannel user = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            user.connect(UnixDomainSocketAddress.of(socket));
            call(device, "writeConfig", new Class<?>[] {int.class, byte[].class, int.class, int.class}, 8,
                    new byte[] {'Z', 0, 0, 0}, 0, 4);
            ByteBuffer b = ByteBuffer.allocate(1);
            while (b.hasRemaining()) {
                assertThat(user.read(b)).isNotNegative();
            }
            assertThat(b.get(0)).isEqualTo((byte) 'Z');
        }
        @SuppressWarnings("unchecked")
        Map<String, Long> counters = (Map<String, Long>) call(device, "counters", new Class<?>[0]);
        assertThat(counters).containsEntry("emerg_writes", 1L);
    }
}
