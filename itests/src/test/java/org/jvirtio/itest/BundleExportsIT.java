package org.jvirtio.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import javax.inject.Inject;

import org.jvirtio.api.memory.GuestMemory;
import org.jvirtio.nativeio.MappedMemory;
import org.jvirtio.transport.core.StatusMachine;
import org.jvirtio.vring.Vrings;
import org.jvirtio.vring.memory.GuestMemoryMap;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.Version;
import org.osgi.framework.wiring.BundleCapability;
import org.osgi.framework.wiring.BundleWiring;
import org.osgi.framework.namespace.PackageNamespace;

/**
 * Inside Felix: the jvirtio bundles (api, native, vring, and the transport core, PCI, MMIO, console and balloon bundles the
 * container embeds) resolve and start, export exactly their API packages at their versions, keep
 * every {@code .internal} package private, and the classes this test sees come from those bundles.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class BundleExportsIT {

    /** Bundle-SymbolicName ({@code groupId.artifactId}) to the packages it must export. */
    private static final Map<String, Set<String>> EXPECTED_EXPORTS = Map.of(
            "org.jvirtio.jvirtio-api", Set.of("org.jvirtio.api", "org.jvirtio.api.device", "org.jvirtio.api.memory",
                    "org.jvirtio.api.queue", "org.jvirtio.api.management"),
            "org.jvirtio.jvirtio-native", Set.of("org.jvirtio.nativeio"),
            "org.jvirtio.jvirtio-vring", Set.of("org.jvirtio.vring", "org.jvirtio.vring.memory"),
            "org.jvirtio.jvirtio-transport-core", Set.of("org.jvirtio.transport.core"),
            "org.jvirtio.jvirtio-transport-pci", Set.of("org.jvirtio.transport.pci", "org.jvirtio.transport.pci.proxy"),
            "org.jvirtio.jvirtio-transport-mmio", Set.of("org.jvirtio.transport.mmio", "org.jvirtio.transport.mmio.acpi",
                    "org.jvirtio.transport.mmio.proxy"),
            "org.jvirtio.jvirtio-device-console", Set.of("org.jvirtio.device.console.backend"),
            "org.jvirtio.jvirtio-device-balloon", Set.of("org.jvirtio.device.balloon.control"));

    /** Packages whose API grew since 1.0.0 (a minor bump each); every other package is at 1.0.0. */
    private static final Map<String, Version> GROWN = Map.of("org.jvirtio.api.device", new Version(1, 4, 0),
            "org.jvirtio.api.queue", new Version(1, 1, 0), "org.jvirtio.api.memory", new Version(1, 1, 0),
            "org.jvirtio.vring", new Version(1, 3, 0), "org.jvirtio.vring.memory", new Version(1, 1, 0),
            "org.jvirtio.nativeio", new Version(1, 3, 0), "org.jvirtio.transport.pci.proxy", new Version(1, 2, 0),
            "org.jvirtio.transport.core", new Version(1, 1, 0), "org.jvirtio.transport.mmio", new Version(1, 2, 0),
            "org.jvirtio.transport.pci", new Version(1, 1, 0));

    @Inject
    private BundleContext context;

    @Configuration
    public Option[] config() {
        return FelixOptions.pciDevicesInFelix();
    }

    private List<Bundle> jvirtioBundles() {
        List<Bundle> found = new ArrayList<>();
        for (Bundle b : context.getBundles()) {
            String name = b.getSymbolicName();
            if (name != null && name.startsWith("org.jvirtio.")) {
                found.add(b);
            }
        }
        return found;
    }

    private Bundle bundle(String symbolicName) {
        for (Bundle b : context.getBundles()) {
            if (symbolicName.equals(b.getSymbolicName())) {
                return b;
            }
        }
        throw new AssertionError("bundle " + symbolicName + " is not installed");
    }

    @Test
    public void everyJvirtioBundleIsActive() {
        assertEquals("org.apache.felix.framework", context.getBundle(0).getSymbolicName());
        List<Bundle> bundles = jvirtioBundles();
        Set<String> names = new TreeSet<>();
        for (Bundle b : bundles) {
            names.add(b.getSymbolicName());
            int state = b.getState();
            assertTrue(b.getSymbolicName() + " is in state " + state,
                    state == Bundle.ACTIVE || state == Bundle.RESOLVED);
            assertNotNull(b.getSymbolicName() + " has no wiring", b.adapt(BundleWiring.class));
        }
        assertEquals(new TreeSet<>(EXPECTED_EXPORTS.keySet()), names);
        assertEquals(Bundle.ACTIVE, bundle("com.sun.jna").getState());
        assertEquals(Bundle.ACTIVE, bundle("org.apache.felix.scr").getState());
    }

    @Test
    public void apiPackagesAreExportedAtTheirVersions() {
        for (Map.Entry<String, Set<String>> e : EXPECTED_EXPORTS.entrySet()) {
            Map<String, Version> exported = wiredExports(bundle(e.getKey()));
            for (String pkg : e.getValue()) {
                Version expected = GROWN.getOrDefault(pkg, new Version(1, 0, 0));
                assertEquals(e.getKey() + " exports " + pkg, expected, exported.get(pkg));
            }
            assertEquals(e.getKey() + " exports exactly its API packages", e.getValue(), exported.keySet());
        }
    }

    @Test
    public void noInternalPackageIsExported() {
        for (Bundle b : jvirtioBundles()) {
            for (String pkg : wiredExports(b).keySet()) {
                assertFalse(b.getSymbolicName() + " exports " + pkg, isInternal(pkg));
            }
            String header = b.getHeaders().get("Export-Package");
            assertNotNull(b.getSymbolicName() + " has no Export-Package header", header);
            for (String pkg : exportedNames(header)) {
                assertFalse(b.getSymbolicName() + " Export-Package names " + pkg, isInternal(pkg));
            }
        }
    }

    /** This probe imports dynamically ({@code DynamicImport-Package: *}): even so, internals stay out of reach. */
    @Test
    public void internalClassesCannotBeLoadedFromOutside() {
        for (String internal : new String[] {"org.jvirtio.vring.internal.SplitDeviceQueue",
                "org.jvirtio.nativeio.internal.LibC"}) {
            try {
                Class.forName(internal, false, getClass().getClassLoader());
                fail(internal + " is visible outside its bundle");
            } catch (ClassNotFoundException expected) {
                // private to its bundle, as it must be
            }
        }
    }

    /** The API types this test uses are wired from the bundles, not from the test JVM's class path. */
    @Test
    public void classesComeFromTheBundles() {
        assertEquals("org.jvirtio.jvirtio-api", FrameworkUtil.getBundle(GuestMemory.class).getSymbolicName());
        assertEquals("org.jvirtio.jvirtio-native", FrameworkUtil.getBundle(MappedMemory.class).getSymbolicName());
        assertEquals("org.jvirtio.jvirtio-vring", FrameworkUtil.getBundle(Vrings.class).getSymbolicName());
        assertEquals("org.jvirtio.jvirtio-vring", FrameworkUtil.getBundle(GuestMemoryMap.class).getSymbolicName());
        assertEquals("org.jvirtio.jvirtio-transport-core", FrameworkUtil.getBundle(StatusMachine.class).getSymbolicName());
    }

    private static boolean isInternal(String pkg) {
        return pkg.endsWith(".internal") || pkg.contains(".internal.");
    }

    /** Package name to version of every package the bundle's wiring exports. */
    private static Map<String, Version> wiredExports(Bundle bundle) {
        BundleWiring wiring = bundle.adapt(BundleWiring.class);
        assertNotNull(bundle.getSymbolicName() + " is not resolved", wiring);
        Map<String, Version> exported = new TreeMap<>();
        for (BundleCapability cap : wiring.getCapabilities(PackageNamespace.PACKAGE_NAMESPACE)) {
            Map<String, Object> attrs = cap.getAttributes();
            exported.put((String) attrs.get(PackageNamespace.PACKAGE_NAMESPACE),
                    (Version) attrs.get(PackageNamespace.CAPABILITY_VERSION_ATTRIBUTE));
        }
        return exported;
    }

    /**
     * The package names of an Export-Package header: clauses are separated by commas outside quotes,
     * and a clause is {@code pkg;pkg;...;attr=value;directive:=value}.
     */
    static List<String> exportedNames(String header) {
        List<String> names = new ArrayList<>();
        StringBuilder clause = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i <= header.length(); i++) {
            char c = i < header.length() ? header.charAt(i) : ',';
            if (c == '"') {
                quoted = !quoted;
            }
            if (c == ',' && !quoted) {
                for (String part : clause.toString().split(";")) {
                    String p = part.trim();
                    if (p.contains("=")) {
                        break;
                    }
                    if (!p.isEmpty()) {
                        names.add(p);
                    }
                }
                clause.setLength(0);
            } else {
                clause.append(c);
            }
        }
        return names;
    }
}
