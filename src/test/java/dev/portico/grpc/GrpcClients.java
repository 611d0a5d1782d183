package dev.portico.grpc;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.testing.protobuf.SimpleRequest;
import io.grpc.testing.protobuf.SimpleResponse;
import io.grpc.testing.protobuf.SimpleServiceGrpc;
import java.util.concurrent.TimeUnit;

/** grpc-java's client (HTTP/2 with prior knowledge) to a Portico listener, calling SimpleService's unary method. */
final class GrpcClients implements AutoCloseable {
    final ManagedChannel channel;

    GrpcClients(int port) {
        channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    }

    /** @return the unary call's answer, with extra request metadata as name, value, ... */
    SimpleResponse unary(String text, String... metadata) {
        return SimpleServiceGrpc.newBlockingStub(channel).withInterceptors(headers(metadata))
                .withDeadlineAfter(20, TimeUnit.SECONDS)
                .unaryRpc(SimpleRequest.newBuilder().setRequestMessage(text).build());
    }

    private static io.grpc.ClientInterceptor headers(String... metadata) {
        Metadata m = new Metadata();
        for (int i = 0; i < metadata.length; i += 2) {
            m.put(Metadata.Key.of(metadata[i], Metadata.ASCII_STRING_MARSHALLER), metadata[i + 1]);
        }
        return MetadataUtils.newAttachHeadersInterceptor(m);
    }

    /** @return the status of a unary call that must fail, with extra request metadata as name, value, ... */
    Status failingUnary(long deadlineMillis, String... metadata) {
        return failing("hi", deadlineMillis, metadata);
    }

    /** @return the status of a unary call with this request message that must fail */
    Status failing(String text, long deadlineMillis, String... metadata) {
        try {
            SimpleServiceGrpc.newBlockingStub(channel).withInterceptors(headers(metadata))
                    .withDeadlineAfter(deadlineMillis, TimeUnit.MILLISECONDS)
                    .unaryRpc(SimpleRequest.newBuilder().setRequestMessage(text).build());
        } catch (StatusRuntimeException e) {
            return e.getStatus();
        }
        throw new AssertionError("the call succeeded");
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
}
