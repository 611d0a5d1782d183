/**
 * gRPC at the proxy: what Portico does for requests whose {@code content-type} is {@code application/grpc*}. Its
 * own answers become trailers-only gRPC answers ({@link dev.portico.internal.grpc.GrpcAnswers}), {@code grpc-timeout}
 * caps the exchange's response deadline ({@link dev.portico.internal.grpc.GrpcTimeout}), and on a route with
 * {@code grpc_web: true} gRPC-Web requests go to the backend as gRPC and their responses come back as gRPC-Web
 * ({@link dev.portico.internal.grpc.GrpcCall}), streamed part by part. Not API: everything here may change.
 */
package dev.portico.internal.grpc;
