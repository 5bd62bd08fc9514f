package org.jvirtio.vring.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Jazzer fuzz test of the device side over hostile ring bytes. In {@code mvn verify} it runs in
 * regression mode over the inputs in {@code src/test/resources/.../DeviceWalkerFuzzTestInputs/}. To
 * fuzz for real (coverage-guided, new findings land in that folder):
 *
 * <pre>
 * JAZZER_FUZZ=1 mvn -pl vring-bundle -am test -Dtest=DeviceWalkerFuzzTest -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 */
class DeviceWalkerFuzzTest {

    @FuzzTest(maxDuration = "5m")
    void hostileRing(byte[] data) {
        RingFuzzTarget.run(data);
    }
}
