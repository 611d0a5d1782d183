package dev.portico.internal.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.Cidr;
import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ClientAddressTest {
    private static final List<Cidr> TRUSTED = List.of(Cidr.parse("10.0.0.0/8"), Cidr.parse("127.0.0.1"));

    @ParameterizedTest(name = "peer {0}, X-Forwarded-For \"{1}\" -> {2}")
    @CsvSource(delimiter = '|', value = {
        // An untrusted peer: its own claims are ignored.
        "203.0.113.5|1.1.1.1|203.0.113.5",
        // A trusted peer: the right-most untrusted entry, never the spoofable left-most one.
        "10.0.0.2|6.6.6.6, 198.51.100.7|198.51.100.7",
        "10.0.0.2|6.6.6.6, 198.51.100.7, 10.0.0.9|198.51.100.7",
        // Every entry trusted: the left-most.
        "127.0.0.1|10.1.1.1, 10.2.2.2|10.1.1.1",
        // Ports and brackets some proxies add.
        "10.0.0.2|198.51.100.7:4711|198.51.100.7",
        "10.0.0.2|[2001:db8::7]:443|2001:db8:0:0:0:0:0:7",
        "10.0.0.2|2001:db8::8|2001:db8:0:0:0:0:0:8",
        // Garbage stops the walk at the last good hop.
        "10.0.0.2|1.1.1.1, unknown, 10.0.0.3|10.0.0.3",
        "10.0.0.2|''|10.0.0.2",
    })
    void walksTheChainRightToLeft(String peer, String xff, String expected) throws Exception {
        List<String> lines = xff.isEmpty() ? List.of() : List.of(xff);
        assertThat(ClientAddress.resolve(InetAddress.getByName(peer), lines, TRUSTED).getHostAddress())
                .isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource({"10.0.0.2", "127.0.0.1"})
    void severalFieldLinesAreOneList(String peer) throws Exception {
        assertThat(ClientAddress.resolve(InetAddress.getByName(peer), List.of("6.6.6.6", "198.51.100.7, 10.0.0.4"),
                TRUSTED).getHostAddress()).isEqualTo("198.51.100.7");
    }
}
