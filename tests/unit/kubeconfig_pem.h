/* kubeconfig_pem: a self-signed EC certificate and its key (openssl req
 * -x509 -newkey ec, 100 years), shared by the kubeconfig reader's unit test
 * and its fuzz target, which writes the certificate beside the kubeconfig
 * it fuzzes so a file-named CA can load. */
#ifndef WSR_TESTS_KUBECONFIG_PEM_H
#define WSR_TESTS_KUBECONFIG_PEM_H
#define CERT_A                                                                                     \
	"-----BEGIN CERTIFICATE-----\n"                                                            \
	"MIIBgTCCASegAwIBAgIUHli7tp8vcxunRbU/NGgl5iV2XcIwCgYIKoZIzj0EAwIw\n"                       \
	"FTETMBEGA1UEAwwKd3NyIHRlc3QgYTAgFw0yNjExMjExMDQzMDRaGA8yMTI2MTAy\n"                       \
	"ODEwNDMwNFowFTETMBEGA1UEAwwKd3NyIHRlc3QgYTBZMBMGByqGSM49AgEGCCqG\n"                       \
	"SM49AwEHA0IABAvcu4oPGwD4UUtMRDfsgWdYBB4/ftv/MN9bwGVGhwy5MhYH+ukD\n"                       \
	"+BiqBaqNQXy6sC4d0d7pHHVTugVXrRyjpzujUzBRMB0GA1UdDgQWBBQUsC6yuHUG\n"                       \
	"ipxDDg3oj4UbDsb7xzAfBgNVHSMEGDAWgBQUsC6yuHUGipxDDg3oj4UbDsb7xzAP\n"                       \
	"BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQChph8dLmXwZOohYlMs\n"                       \
	"1LTdKJMOKrmJGqsudtXaBEa5kAIgejnVLHp0ylo3NLpHZgCbszB0FFF5Wyc/A2ZX\n"                       \
	"VjwwNDQ=\n"                                                                               \
	"-----END CERTIFICATE-----\n"
#define KEY_A                                                                                      \
	"-----BEGIN PRIVATE KEY-----\n"                                                            \
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQggzMmTwYlx/cnEZQ9\n"                       \
	"kmCMYQLm0CK5YrcYP2zUfmBESDOhRANCAAQL3LuKDxsA+FFLTEQ37IFnWAQeP37b\n"                       \
	"/zDfW8BlRocMuTIWB/rpA/gYqgWqjUF8urAuHdHe6Rx1U7oFV60co6c7\n"                               \
	"-----END PRIVATE KEY-----\n"
#endif
