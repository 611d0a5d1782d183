// A gRPC-Web call with npm's grpc-web runtime in Node (XMLHttpRequest from xhr2): SimpleService/UnaryRpc with
// SimpleRequest/SimpleResponse encoded by hand (field 1, a string), printing the answer or the error as JSON.
global.XMLHttpRequest = require('xhr2');
const {GrpcWebClientBase, MethodDescriptor, MethodType} = require('grpc-web');

const [, , url, format, message] = process.argv;
const encode = (req) => {
  const text = Buffer.from(req.message, 'utf8');
  return new Uint8Array(Buffer.concat([Buffer.from([0x0a, text.length]), text]));
};
const decode = (bytes) => {
  const b = Buffer.from(bytes);
  let i = 0;
  let text = '';
  while (i < b.length) {
    const tag = b[i++];
    const len = b[i++];
    if (tag === 0x0a) text = b.slice(i, i + len).toString('utf8');
    i += len;
  }
  return {message: text};
};
class Req {}
class Res {}
const method = new MethodDescriptor('/grpc.testing.SimpleService/UnaryRpc', MethodType.UNARY, Req, Res,
    encode, decode);
const client = new GrpcWebClientBase({format});
const call = client.rpcCall(url + '/grpc.testing.SimpleService/UnaryRpc', {message}, {}, method,
    (err, res) => {
      console.log(JSON.stringify(err ? {code: err.code, message: err.message} : {message: res.message}));
    });
call.on('status', (s) => console.log(JSON.stringify({status: s.code, details: s.details, metadata: s.metadata})));
