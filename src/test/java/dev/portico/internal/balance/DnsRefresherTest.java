package dev.portico.internal.balance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.portico.config.UpstreamConfig;
import dev.portico.config.UpstreamUrl;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.dns.DatagramDnsQuery;
import io.netty.handler.codec.dns.DatagramDnsQueryDecoder;
import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DatagramDnsResponseEncoder;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DnsQuestion;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import io.netty.resolver.dns.SingletonDnsServerAddressStreamProvider;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Backend names resolved through a DNS server on 127.0.0.1, answering with a 1-second TTL. */
@Timeout(30)
class DnsRefresherTest {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    /** The A record's last octet the fake server answers with; 0 answers NXDOMAIN. */
    private final AtomicInteger lastOctet = new AtomicInteger(1);
    private final AtomicInteger queries = new AtomicInteger();
    private Channel dnsServer;
    private DnsRefresher dns;

    @BeforeEach
    void startDnsServer() {
        dnsServer = new Bootstrap().group(group).channel(NioDatagramChannel.class)
                .handler(new ChannelInitializer<DatagramChannel>() {
                    @Override
                    protected void initChannel(DatagramChannel ch) {
                        ch.pipeline().addLast(new DatagramDnsQueryDecoder(), new DatagramDnsResponseEncoder(),
                                new Answerer());
                    }
                }).bind("127.0.0.1", 0).syncUninterruptibly().channel();
        InetSocketAddress at = (InetSocketAddress) dnsServer.localAddress();
        dns = new DnsRefresher(group.next(), NioDatagramChannel.class, new SingletonDnsServerAddressStreamProvider(at),
                Duration.ofSeconds(2));
    }

    @AfterEach
    void stop() {
        dns.close();
        dnsServer.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void resolvesAtStartAndAgainWhenTheTtlRunsOut() throws Exception {
        UpstreamGroup upstream = new UpstreamGroup(UpstreamConfig.of(UpstreamUrl.parse("http://svc.portico.test:9000")),
                "svc");

        dns.add(upstream).get(5, TimeUnit.SECONDS);
        assertThat(upstream.endpoints()).extracting(Endpoint::text).containsExactly("127.0.0.1:9000");
        Endpoint first = upstream.endpoints().get(0);

        lastOctet.set(2);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(upstream.endpoints()).extracting(Endpoint::text).containsExactly("127.0.0.2:9000"));
        assertThat(upstream.endpoints().get(0)).isNotSameAs(first);
        assertThat(queries.get()).isGreaterThanOrEqualTo(2);
    }

    @Test
    void keepsTheLastAddressesWhileTheNameFailsWithinTheGrace() throws Exception {
        UpstreamGroup upstream = new UpstreamGroup(UpstreamConfig.of(UpstreamUrl.parse("http://svc.portico.test:9000")),
                "svc");
        dns.add(upstream).get(5, TimeUnit.SECONDS);
        int before = queries.get();

        lastOctet.set(0); // NXDOMAIN from now on
        await().atMost(Duration.ofSeconds(10)).until(() -> queries.get() > before);
        assertThat(upstream.endpoints()).extracting(Endpoint::text).containsExactly("127.0.0.1:9000");
        // TTL (1 s) plus grace (2 s) later, the address is dropped.
        await().atMost(Duration.ofSeconds(15)).until(() -> upstream.endpoints().isEmpty());
        assertThat(upstream.select(null, null)).isNull();
    }

    @Test
    void aNameThatDoesNotResolveAtStartFailsNamingIt() {
        lastOctet.set(0);
        UpstreamGroup upstream = new UpstreamGroup(UpstreamConfig.of(UpstreamUrl.parse("http://gone.portico.test:1")),
                "svc");

        assertThatThrownBy(() -> dns.add(upstream).get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .hasMessageContaining("cannot resolve upstream host \"gone.portico.test\"");
    }

    @Test
    void ipLiteralsNeedNoQuery() throws Exception {
        UpstreamGroup upstream = new UpstreamGroup(UpstreamConfig.of(List.of(UpstreamUrl.parse("http://127.0.0.9:1"),
                UpstreamUrl.parse("http://[::1]:2"))), "lit");

        dns.add(upstream).get(1, TimeUnit.SECONDS);

        assertThat(upstream.endpoints()).extracting(Endpoint::text).containsExactly("127.0.0.9:1", "[0:0:0:0:0:0:0:1]:2");
        assertThat(queries.get()).isZero();
    }

    /** Answers A queries with 127.0.0.N, TTL 1 s; AAAA with nothing. */
    private final class Answerer extends SimpleChannelInboundHandler<DatagramDnsQuery> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramDnsQuery query) {
            DnsQuestion q = query.recordAt(DnsSection.QUESTION);
            queries.incrementAndGet();
            int octet = lastOctet.get();
            DatagramDnsResponse r = new DatagramDnsResponse(query.recipient(), query.sender(), query.id());
            r.addRecord(DnsSection.QUESTION, new DefaultDnsQuestion(q.name(), q.type()));
            if (octet == 0) {
                r.setCode(DnsResponseCode.NXDOMAIN);
            } else if (q.type() == DnsRecordType.A) {
                r.addRecord(DnsSection.ANSWER, new DefaultDnsRawRecord(q.name(), DnsRecordType.A, 1,
                        Unpooled.wrappedBuffer(new byte[] {127, 0, 0, (byte) octet})));
            }
            ctx.writeAndFlush(r);
        }
    }
}
